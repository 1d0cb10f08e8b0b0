/* Structs whose layout a skeleton must get right, for the generator's unit
 * tests (src/cli/gen/tests.rs): compiled for BPF (the BTF the generator
 * reads) and natively (clang's own offsets, which the test compares). Each
 * is the value of a map or a global, so that it is in the BTF. */
#ifdef __BPF__
#define SEC(n) __attribute__((section(n), used))
#else
#define SEC(n)
#endif
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef signed char s8;
typedef long long s64;

enum color { RED, GREEN = 5, BLUE = 0x7fffffff };
enum big : u64 { HUGE = 0x100000000ULL };

struct inner {
	u8 a;
	u64 b;
};

struct padded {
	u8 c;
	u32 i;
	u8 d;
	u64 q;
	u16 e;
};

struct nested {
	u32 x;
	struct inner in;
	struct inner arr[3];
	u16 grid[2][3];
	char name[5];
	struct {
		u8 p;
		u32 q;
	} anon_member;
	union {
		u64 whole;
		u8 parts[8];
		struct inner s;
	} un;
	union {
		u32 first;
		u16 second;
	};
	void *ptr;
	enum color col;
	enum big big;
	s8 neg;
	s64 wide;
	float f;
	double d;
};

struct bits {
	u8 before;
	u32 a : 3, b : 7, : 2, c : 20;
	u64 d : 40;
	u16 e : 9;
	u8 after;
	u64 f : 1;
};

struct mixed_bits {
	u8 x;
	u32 y : 4;
	u8 z : 2;
};

struct __attribute__((packed)) packed {
	u8 a;
	u32 b;
	u64 c;
	u16 d;
};

struct __attribute__((aligned(16))) aligned16 {
	u32 a;
};

struct holds_aligned {
	u8 a;
	struct aligned16 b;
	u8 c;
};

typedef struct {
	u32 k;
	u8 t;
} anon_typedef_t;

struct nested g_nested SEC(".data");
struct bits g_bits SEC(".data");
struct mixed_bits g_mixed SEC(".data");
struct packed g_packed SEC(".data");
struct holds_aligned g_aligned SEC(".data");
anon_typedef_t g_typedef SEC(".data");
struct padded g_padded SEC(".data");
const volatile u8 g_ro_byte SEC(".rodata") = 1;
const volatile u64 g_ro_wide SEC(".rodata") = 2;
u32 g_bss_a SEC(".bss");
u8 g_bss_b SEC(".bss");
u64 g_bss_c SEC(".bss");

#ifdef __BPF__
char _license[] SEC("license") = "GPL";
#endif
