# VM tests: kprobes (and the whole kernel suite) on Debian's distribution
# kernels under QEMU, since the host kernel has no kprobes. See docs/vm-tests.md.
#
#   make vmtest                  6.1 and 6.12
#   make vmtest KERNEL=6.1       one series (6.1, 6.12, all, a list "6.1,6.12", or a bzImage path)
#   make vmtest VM_ACCEL=kvm     KVM instead of TCG (TCG is the default: KVM hangs at boot on some hosts)
#   make test SKIP_VMTEST=1      the normal tests without the VM suite

# busybox must be the static build, so it is checked as a package.
NEED_VM   = cpio=cpio qemu-system-x86=qemu-system-x86_64 busybox-static=
NEED_ALL += $(NEED_VM)
EXTRA_TESTS += vmtest

KERNEL     ?= all
VM_OUT     := $(BUILD)/vm
VM_BIN     := $(VM_OUT)/bin
# The kernel test binary, statically linked so the initramfs needs no libraries;
# its own target dir keeps the normal build untouched.
VM_TARGET  := $(shell uname -m)-unknown-linux-gnu
VM_CARGO_DIR := target/vm

.PHONY: vmtest vm-bins vm-fetch deps-vm

deps-vm:
	@$(NEED) deps-vm $(NEED_VM)

# Test binaries for the guest: the lead's `kernel` integration test and the
# kprobe tests (C against the static libbpfl.a).
vm-bins: lib bpf $(VM_BIN)/kprobe_tests $(BUILD)/usdt_target
	@mkdir -p $(VM_BIN)
	@cp $(BUILD)/usdt_target $(VM_BIN)/usdt_target
	@exe=$$(RUSTFLAGS="-C target-feature=+crt-static" $(CARGO) test --release --no-run --quiet \
	    --target $(VM_TARGET) --target-dir $(VM_CARGO_DIR) --test kernel --message-format=json 2>$(VM_OUT)/cargo.log | \
	    grep -o '"executable":"[^"]*"' | tail -1 | cut -d'"' -f4); \
	if [ -z "$$exe" ]; then grep -v 'dropping unsupported crate type' $(VM_OUT)/cargo.log >&2; \
	  echo "vmtest: building the static kernel test binary failed" >&2; exit 1; fi; \
	cp "$$exe" $(VM_BIN)/kernel.tmp && mv $(VM_BIN)/kernel.tmp $(VM_BIN)/kernel

$(VM_BIN)/kprobe_tests: tests/vm/kprobe_tests.c $(HEADER) $(LIBDIR)/libbpfl.a
	@mkdir -p $(VM_BIN)
	@# glibc's warnings about NSS functions in static binaries are noise here: show the log only on failure.
	$(CC) $(CFLAGS_C) -static $< -o $@ $(STATIC_LIBS) > $(VM_OUT)/cc.log 2>&1 || { cat $(VM_OUT)/cc.log >&2; exit 1; }

vm-fetch:
	@for k in $$(echo $(KERNEL) | tr ',' ' '); do tests/vm/run.sh fetch $$k; done

ifeq ($(SKIP_VMTEST),1)
# Skipped: nothing is built or booted, but say so loudly.
vmtest:
	@echo "************************************************************"
	@echo "SKIPPED: VM kernel tests (SKIP_VMTEST=1): kprobes are untested"
	@echo "************************************************************"
else
vmtest: deps-vm vm-bins
	@VM_OUT=$(VM_OUT) VM_BIN=$(VM_BIN) BPF_DIR=$(BPF_OUT) tests/vm/run.sh $(KERNEL)
endif
