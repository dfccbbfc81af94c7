/* SPDX-License-Identifier: MIT */
/* test_remote_cxx.cpp - test_remote compiled as C++: pcpu_run_on_cpu() with the this_cpu
 * operations of the function it runs, from C++. */
#include "test_remote.c"
