module github.com/bpfl/bpfl/bindings/go

go 1.19
