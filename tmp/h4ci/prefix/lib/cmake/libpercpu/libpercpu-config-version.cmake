# SPDX-License-Identifier: MIT
# Which requested versions this libpercpu satisfies: the same major version, and while
# the major version is 0 the same minor one too (0.x releases may change the API), no
# older than requested; and only for 64-bit builds (the library's only ABI).
set(PACKAGE_VERSION "0.1.0")
set(PACKAGE_VERSION_COMPATIBLE FALSE)
set(PACKAGE_VERSION_EXACT FALSE)
if(NOT PACKAGE_FIND_VERSION VERSION_GREATER PACKAGE_VERSION)
	string(REPLACE "." ";" _libpercpu_v "${PACKAGE_VERSION}")
	list(GET _libpercpu_v 0 _libpercpu_major)
	list(GET _libpercpu_v 1 _libpercpu_minor)
	if(PACKAGE_FIND_VERSION_MAJOR EQUAL _libpercpu_major AND
	   (NOT _libpercpu_major EQUAL 0 OR PACKAGE_FIND_VERSION_MINOR EQUAL _libpercpu_minor))
		set(PACKAGE_VERSION_COMPATIBLE TRUE)
	endif()
	if(PACKAGE_FIND_VERSION VERSION_EQUAL PACKAGE_VERSION)
		set(PACKAGE_VERSION_EXACT TRUE)
	endif()
endif()
if(NOT PACKAGE_FIND_VERSION)
	set(PACKAGE_VERSION_COMPATIBLE TRUE)
endif()
if(CMAKE_SIZEOF_VOID_P AND NOT CMAKE_SIZEOF_VOID_P EQUAL 8)
	set(PACKAGE_VERSION_UNSUITABLE TRUE)
endif()
