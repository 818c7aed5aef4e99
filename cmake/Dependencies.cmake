# Every find_package of the project lives here (one place, as COLMAP does).
find_package(Threads REQUIRED)
find_package(OpenCV 4 REQUIRED COMPONENTS core imgproc imgcodecs ml)
# PCL's VTK targets reference MPI::MPI_C; find it first.
find_package(MPI COMPONENTS C)
find_package(PCL 1.12 REQUIRED COMPONENTS common io kdtree)
find_package(HDF5 REQUIRED COMPONENTS C)
find_package(TBB REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(ZLIB REQUIRED)
find_package(pugixml REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(OpenSSL REQUIRED COMPONENTS Crypto SSL)
find_package(PkgConfig REQUIRED)
# libzip through pkg-config: Debian's libzip CMake config (libzip-targets.cmake)
# references /usr/bin/zipcmp, zipmerge and ziptool, which live in packages of
# their own, so find_package(libzip) fails on a machine without them.
pkg_check_modules(LIBZIP REQUIRED IMPORTED_TARGET GLOBAL libzip>=1.7)
add_library(libzip::zip ALIAS PkgConfig::LIBZIP)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib>=0.11)  # the review server (toolmark serve)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium>=1.0.18)   # Ed25519 signatures, tokens (exchange)
pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)  # PostgreSQL: the catalog of a shared deployment (docs/database.md)
# FAISS 1.7.3 is a static library whose exported target needs OpenMP::OpenMP_CXX.
find_package(OpenMP REQUIRED COMPONENTS CXX)
find_package(faiss REQUIRED)
if(TESTS_ENABLED)
  find_package(GTest REQUIRED)
endif()
if(BENCHMARK_ENABLED)
  find_package(benchmark REQUIRED)
endif()

# PCL exposes include dirs / definitions as variables; wrap them in one target.
add_library(toolmark_pcl INTERFACE)
target_include_directories(toolmark_pcl SYSTEM INTERFACE ${PCL_INCLUDE_DIRS})
target_link_libraries(toolmark_pcl INTERFACE ${PCL_LIBRARIES})
target_compile_definitions(toolmark_pcl INTERFACE ${PCL_DEFINITIONS})

add_library(toolmark_hdf5 INTERFACE)
target_include_directories(toolmark_hdf5 SYSTEM INTERFACE ${HDF5_INCLUDE_DIRS})
target_link_libraries(toolmark_hdf5 INTERFACE ${HDF5_C_LIBRARIES})
target_compile_definitions(toolmark_hdf5 INTERFACE ${HDF5_DEFINITIONS})
