module bpfl.dev/bpfl

go 1.19
