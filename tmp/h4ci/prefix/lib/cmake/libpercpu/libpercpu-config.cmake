# SPDX-License-Identifier: MIT
# libpercpu's CMake package, installed by make install:
#     find_package(libpercpu 0.1 REQUIRED)
#     target_link_libraries(app PRIVATE libpercpu::libpercpu)
# libpercpu::libpercpu is the shared library with its headers; libpercpu::libpercpu_static
# the static one, with the threads and dl libraries it needs.  Paths are relative to this
# file, so an installed tree (or a DESTDIR staging of one) may move.
get_filename_component(_libpercpu_libdir "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)
get_filename_component(_libpercpu_incdir "${CMAKE_CURRENT_LIST_DIR}/../../../include" ABSOLUTE)

include(CMakeFindDependencyMacro)
find_dependency(Threads)

if(NOT TARGET libpercpu::libpercpu)
	add_library(libpercpu::libpercpu SHARED IMPORTED)
	set_target_properties(libpercpu::libpercpu PROPERTIES
		IMPORTED_LOCATION "${_libpercpu_libdir}/libpercpu.so.0.1.0"
		IMPORTED_SONAME "libpercpu.so.0"
		INTERFACE_INCLUDE_DIRECTORIES "${_libpercpu_incdir}")
endif()
if(NOT TARGET libpercpu::libpercpu_static)
	add_library(libpercpu::libpercpu_static STATIC IMPORTED)
	set_target_properties(libpercpu::libpercpu_static PROPERTIES
		IMPORTED_LOCATION "${_libpercpu_libdir}/libpercpu.a"
		INTERFACE_INCLUDE_DIRECTORIES "${_libpercpu_incdir}"
		INTERFACE_LINK_LIBRARIES "Threads::Threads;${CMAKE_DL_LIBS}")
endif()

set(libpercpu_INCLUDE_DIRS "${_libpercpu_incdir}")
set(libpercpu_LIBRARIES libpercpu::libpercpu)
unset(_libpercpu_libdir)
unset(_libpercpu_incdir)
