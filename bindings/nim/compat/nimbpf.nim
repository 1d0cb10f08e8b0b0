## nimbpf: the seed's module name, kept so `import nimbpf` compiles unchanged.
## The code is `bpfl/nimbpf` of the `bpfl` package; this package only
## re-exports it (nimble allows one top-level module per package, so it
## cannot live in `bpfl` itself).
import bpfl/nimbpf
export nimbpf
