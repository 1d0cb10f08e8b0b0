/* The USDT test's target: probe bpfltest:req has a semaphore and arguments
 * of every kind (a constant, registers, stack memory). With no argument the
 * program waits for SIGUSR1 (the tester's "attached"), then fires the probe
 * once if the semaphore is non-zero and exits 0, or exits 5 if it is zero.
 * With "auto", it fires bpfltest:auto as soon as that semaphore is set
 * (the tracer attached before the start). Nothing within 5 s: exit 3. Argument values are checked by
 * tests/kernel/usdt.rs: keep them in step. Built -O1 by `make usdt-target`. */
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

static volatile sig_atomic_t go;
static void on_usr1(int sig) { (void)sig; go = 1; }

unsigned short bpfltest_req_semaphore __attribute__((section(".probes")));
unsigned short bpfltest_auto_semaphore __attribute__((section(".probes")));

__attribute__((noinline)) static void fire(long a, int b, volatile long *mem, short c)
{
	volatile signed char neg = -5;
	unsigned short sem = bpfltest_req_semaphore;
	__asm__ volatile("" : "+r"(sem)); /* a register operand, not the symbol */
	/* $42 (constant), %reg (a, b), (%reg) (*mem), the semaphore as seen, c, N(%rsp) (neg), $-7 */
	STAP_PROBE8(bpfltest, req, 42, a, b, *mem, sem, c, neg, -7);
}

/* uprobe.multi targets (mode 'm'): called 1, 2 and 3 times. */
__attribute__((noinline)) int bpfl_multi_1(int x) { __asm__ volatile(""); return x + 1; }
__attribute__((noinline)) int bpfl_multi_2(int x) { __asm__ volatile(""); return x + 2; }
__attribute__((noinline)) int bpfl_multi_3(int x) { __asm__ volatile(""); return x + 3; }

int main(int argc, char **argv)
{
	if (argc > 1 && argv[1][0] == 'm') {
		int r = bpfl_multi_1(0);
		for (int i = 0; i < 2; i++)
			r += bpfl_multi_2(i);
		for (int i = 0; i < 3; i++)
			r += bpfl_multi_3(i);
		return r == 1 + 5 + 12 ? 0 : 4;
	}
	volatile long on_stack = 0x1122334455667788L;
	int auto_mode = argc > 1 && argv[1][0] == 'a';
	signal(SIGUSR1, on_usr1);
	for (int i = 0; i < 500; i++) {
		if (auto_mode && bpfltest_auto_semaphore) {
			STAP_PROBE2(bpfltest, auto, 7, argc);
			return 0;
		}
		if (!auto_mode && go) {
			if (!bpfltest_req_semaphore)
				return 5;
			fire(-1234567890123L, -77, &on_stack, 31000);
			return 0;
		}
		usleep(10000);
	}
	return 3;
}
