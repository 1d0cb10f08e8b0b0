# The seed's module name `nimbpf` as a package of its own: `import nimbpf`
# keeps working. Install `bpfl` (../bpfl.nimble) first: it is not listed in
# `requires` because nimble then looks it up in the online package list
# even when it is installed, which fails offline.
version       = "0.1.0"
author        = "bpfl developers"
description   = "nimbpf's API under its old module name (import nimbpf), on the bpfl package"
license       = "MIT"

requires "nim >= 1.6.0"
