/* SPDX-License-Identifier: MIT */
/* test_static_cxx.cpp - test_static compiled as C++: static per-CPU variables (every
 * DEFINE_PER_CPU variant, with initializers) and their registration from a C++ object. */
#include "test_static.c"
