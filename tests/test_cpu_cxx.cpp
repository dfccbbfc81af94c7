/* SPDX-License-Identifier: MIT */
/* test_cpu_cxx.cpp - test_cpu compiled as C++: pcpu_current_cpu() and pcpu_this_ptr(),
 * inline code of the header, as g++ and clang++ compile them, in each CPU source. */
#include "test_cpu.c"
