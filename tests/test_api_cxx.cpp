/* SPDX-License-Identifier: MIT */
/* test_api_cxx.cpp - the API as C++ code uses it, with the kernel's names: static
 * per-CPU variables (with initializers, in every copy), alloc_percpu(T) of a class type
 * and inside a class, the this_cpu family on every width through a template, checked
 * against a model value on a pinned thread, per_cpu_ptr, get_cpu/get_cpu_var and a
 * percpu_counter, then exact totals from std::threads.  Built with g++ and clang++; runs
 * in each CPU-source mode like the C tests. */
#include <percpu/kernel.h>

#include <cstring>
#include <limits>
#include <thread>
#include <type_traits>
#include <vector>

#include "testutil.h"

struct stats {
	unsigned long packets, bytes;
};

static DEFINE_PER_CPU(unsigned long, events);
DEFINE_PER_CPU_ALIGNED(struct stats, boot_stats) = { 1, 1500 };
static DEFINE_PER_CPU(long, held_updates);
static DEFINE_PER_CPU(volatile long, flagged);

/* A per-CPU meter owned by an object: allocation in the constructor, free in the
 * destructor, as C++ code keeps per-CPU data. */
class meter {
public:
	meter() : c_(alloc_percpu(long)) {}
	~meter() { free_percpu(c_); }
	meter(const meter &) = delete;
	meter &operator=(const meter &) = delete;
	bool ok() const { return c_ != nullptr; }
	void hit(long n) { this_cpu_add(*c_, n); }
	/* this CPU's copy, read in a const member function: through a pointer to const */
	long here() const { return this_cpu_read(*c_); }
	long total() const
	{
		long t = 0;
		unsigned int cpu;

		for_each_possible_cpu(cpu)
			t += *per_cpu_ptr(c_, cpu);
		return t;
	}

private:
	long __percpu *c_;
};

/* Random operations of every kind on this CPU's copy of a T, against a model; the
 * thread is pinned so that "this CPU" stays one copy. */
template <typename T> static void ops_vs_model(unsigned int cpu)
{
	typedef typename std::make_unsigned<T>::type U; /* the model wraps, as the copy does */
	T __percpu *p = alloc_percpu(T);
	T model = 0;

	CHECK(p != nullptr);
	if (!p)
		return;
	for (int i = 0; i < 2000; i++) {
		/* the extremes often: they are where signed arithmetic would overflow */
		T v = tu_rand() % 4 ? (T)tu_rand() : std::numeric_limits<T>::min();
		T o;
		switch (tu_rand() % 8) {
		case 0: this_cpu_write(*p, v); model = v; break;
		case 1: this_cpu_add(*p, v); model = (T)((U)model + (U)v); break;
		case 2: this_cpu_sub(*p, v); model = (T)((U)model - (U)v); break;
		case 3: this_cpu_and(*p, v); model = (T)(model & v); break;
		case 4: this_cpu_or(*p, v); model = (T)(model | v); break;
		case 5:
			model = (T)((U)model + (U)v);
			CHECK(this_cpu_add_return(*p, v) == model);
			break;
		case 6: CHECK(this_cpu_xchg(*p, v) == model); model = v; break;
		default:
			o = (tu_rand() & 1) ? model : (T)((U)model + 1);
			CHECK(this_cpu_cmpxchg(*p, o, v) == model);
			if (o == model)
				model = v;
			break;
		}
		CHECK(this_cpu_read(*p) == model);
	}
	CHECK(*per_cpu_ptr(p, cpu) == model);
	free_percpu(p);
}

static void models(void)
{
	unsigned int cpu = 0;

	for_each_online_cpu(cpu) {
		if (tu_pin(cpu) != 0)
			continue;
		ops_vs_model<uint8_t>(cpu);
		ops_vs_model<int16_t>(cpu);
		ops_vs_model<uint32_t>(cpu);
		ops_vs_model<int64_t>(cpu);
		ops_vs_model<unsigned long long>(cpu);
		break;
	}
	cpu_set_t all;
	CPU_ZERO(&all);
	for_each_online_cpu(cpu)
		CPU_SET(cpu, &all);
	sched_setaffinity(0, sizeof(all), &all);
}

static void threads(void)
{
	const int nthreads = 4;
	const long n = tu_scaled(200000);
	unsigned long events_before = 0, events_after = 0;
	long held = 0;
	unsigned int cpu;
	struct percpu_counter items;
	meter m;
	std::vector<std::thread> ts;

	CHECK(m.ok());
	CHECK_EQ(percpu_counter_init(&items, 0, GFP_KERNEL), 0);
	for_each_possible_cpu(cpu)
		events_before += per_cpu(events, cpu);
	for (int t = 0; t < nthreads; t++)
		ts.emplace_back([&] {
			for (long i = 0; i < n; i++) {
				this_cpu_inc(events);
				m.hit(3);
				percpu_counter_inc(&items);
				if (i % 32 == 0) {
					get_cpu_var(held_updates)++; /* non-atomic: get_cpu excludes */
					put_cpu_var(held_updates);
				}
			}
		});
	for (std::thread &t : ts)
		t.join();
	for_each_possible_cpu(cpu) {
		events_after += per_cpu(events, cpu);
		held += per_cpu(held_updates, cpu);
	}
	CHECK_EQ(events_after - events_before, (unsigned long)(nthreads * n));
	CHECK_EQ(m.total(), 3 * nthreads * n);
	CHECK_EQ(percpu_counter_sum(&items), nthreads * n);
	CHECK_EQ(held, nthreads * ((n + 31) / 32));
	percpu_counter_destroy(&items);
}

/* Objects reached through const and volatile lvalues: a const member function's read,
 * and a volatile per-CPU variable updated and read back, on a pinned thread. */
static void qualified(void)
{
	meter m;
	unsigned int cpu = pcpu_current_cpu(), c;
	cpu_set_t saved;
	long sum = 0;

	CHECK(m.ok());
	if (!m.ok() || sched_getaffinity(0, sizeof(saved), &saved) != 0 || tu_pin(cpu) != 0)
		return;
	m.hit(41);
	this_cpu_inc(flagged);
	this_cpu_add(flagged, 2);
	CHECK_EQ(this_cpu_cmpxchg(flagged, 3, 7), 3);
	CHECK_EQ(m.here(), 41);
	CHECK_EQ(this_cpu_read(flagged), 7);
	for_each_possible_cpu(c)
		sum += per_cpu(flagged, c);
	CHECK_EQ(sum, 7);
	this_cpu_write(flagged, 0);
	sched_setaffinity(0, sizeof(saved), &saved);
}

static int run_mode(const char *want)
{
	unsigned int cpu;

	fprintf(stderr, "mode: %s\n", pcpu_cpu_source());
	CHECK(tu_source_is(want));
	for_each_possible_cpu(cpu) {
		CHECK_EQ(per_cpu(boot_stats, cpu).packets, 1);
		CHECK_EQ(per_cpu(boot_stats, cpu).bytes, 1500);
		CHECK_EQ((uintptr_t)&per_cpu(boot_stats, cpu) % PCPU_CACHELINE, 0);
	}
	cpu = (unsigned int)get_cpu();
	CHECK(cpu_possible(cpu));
	put_cpu();
	qualified();
	models();
	threads();
	return tu_failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	tu_seed("test_api_cxx");
	return tu_run_modes(argc, argv, run_mode);
}
