/* SPDX-License-Identifier: MIT */
/* test_counter_misuse.c - every pcpu_counter call but init and destroy, on a counter
 * that is not initialized (all-zero, destroyed, failed init, NULL), reports the call by
 * name with the counter's address and aborts, instead of faulting; in every CPU-source
 * mode.  Each misuse runs in a forked child. */
#include <errno.h>
#include <string.h>

#include "percpu.h"
#include "testutil.h"

enum state { ZEROED, DESTROYED, FAILED_INIT, NULL_PTR, NR_STATES };
static const char *const state_names[] = { "all-zero", "destroyed", "failed init", "NULL" };

static const char *const calls[] = {
	"pcpu_counter_add", "pcpu_counter_add_batch", "pcpu_counter_inc", "pcpu_counter_dec",
	"pcpu_counter_read", "pcpu_counter_read_positive", "pcpu_counter_sum",
	"pcpu_counter_sum_positive", "pcpu_counter_set", "pcpu_counter_compare",
	"pcpu_counter_compare_batch",
};
#define NR_CALLS (sizeof(calls) / sizeof(calls[0]))

static unsigned int cur_call;
static enum state cur_state;
static volatile int64_t sink;

/* A counter in the state under test; for DESTROYED it was really used first. */
static struct pcpu_counter *make_counter(void)
{
	static struct pcpu_counter c;

	memset(&c, 0, sizeof(c));
	switch (cur_state) {
	case ZEROED:
		return &c;
	case DESTROYED:
		CHECK_EQ(pcpu_counter_init(&c, 5, PCPU_GFP_KERNEL), 0);
		pcpu_counter_add(&c, 1000);
		CHECK_EQ(pcpu_counter_sum(&c), 1005);
		pcpu_counter_destroy(&c);
		return &c;
	case FAILED_INIT:
		errno = 0;
		CHECK_EQ(pcpu_counter_init(&c, 5, 0x80), -1); /* unknown gfp flag */
		CHECK_EQ(errno, EINVAL);
		return &c;
	default:
		return NULL;
	}
}

static void misuse(int fd)
{
	struct pcpu_counter *c = make_counter();

	tu_say(fd, c);
	switch (cur_call) {
	case 0: pcpu_counter_add(c, 1); break;
	case 1: pcpu_counter_add_batch(c, 1, 100); break;
	case 2: pcpu_counter_inc(c); break;
	case 3: pcpu_counter_dec(c); break;
	case 4: sink = pcpu_counter_read(c); break;
	case 5: sink = pcpu_counter_read_positive(c); break;
	case 6: sink = pcpu_counter_sum(c); break;
	case 7: sink = pcpu_counter_sum_positive(c); break;
	case 8: pcpu_counter_set(c, 7); break;
	case 9: sink = pcpu_counter_compare(c, 3); break;
	case 10: sink = pcpu_counter_compare_batch(c, 3, 64); break;
	}
}

static int run(void)
{
	char want[128];

	for (cur_state = 0; cur_state < NR_STATES; cur_state++) {
		for (cur_call = 0; cur_call < NR_CALLS; cur_call++) {
			char name[96];

			snprintf(name, sizeof(name), "%s on a %s counter", calls[cur_call],
				 state_names[cur_state]);
			/* the message must name this very call, not a helper it goes through */
			snprintf(want, sizeof(want), "libpercpu: %s: ", calls[cur_call]);
			tu_expect_abort(name, misuse, want);
		}
	}
	/* destroy stays a no-op on every such counter, and the counter is reusable */
	for (cur_state = 0; cur_state < NULL_PTR; cur_state++) {
		struct pcpu_counter *c = make_counter();

		pcpu_counter_destroy(c);
		CHECK_EQ(pcpu_counter_init(c, -3, PCPU_GFP_KERNEL), 0);
		pcpu_counter_add(c, 10);
		CHECK_EQ(pcpu_counter_sum(c), 7);
		pcpu_counter_destroy(c);
	}
	pcpu_counter_destroy(NULL);
	return tu_failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	CHECK_EQ(pcpu_init(), 0);
	if (argc > 1)
		return run(); /* a CPU-source mode of tu_spawn_mode */
	fprintf(stderr, "mode: %s\n", pcpu_cpu_source());
	run();
	tu_spawn_modes(argv[0]);
	TEST_DONE();
}
