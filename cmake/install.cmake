# Installation (GRADSCOPE_INSTALL; on by default at the top level): headers under
# include/gradscope/<layer>/, libraries, a CMake package (find_package(gradscope 0.1)) exporting
# gradscope::tokenizer, ::tensor, ::autograd, ::nn, ::analysis and the umbrella gradscope::gradscope, and a
# pkg-config file for builds without CMake. scripts/check_install installs into a temporary
# prefix and builds examples/ against it.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(GS_INSTALL_INCLUDE ${CMAKE_INSTALL_INCLUDEDIR}/gradscope)
set(GS_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/gradscope)

# Headers keep their layer folders: #include "tensor/tensor.h" works with include/gradscope on
# the include path, and <gradscope/tensor/tensor.h> with include/. GS_PUBLIC_HEADERS
# (cmake/public_headers.cmake) leaves out the few headers internal to one layer's sources.
foreach(h ${GS_PUBLIC_HEADERS})
  get_filename_component(dir ${h} DIRECTORY)
  install(FILES ${PROJECT_SOURCE_DIR}/${h} DESTINATION ${GS_INSTALL_INCLUDE}/${dir})
endforeach()
install(FILES ${PROJECT_BINARY_DIR}/generated/gradscope/version.h DESTINATION ${GS_INSTALL_INCLUDE})

set(GS_EXPORTED gs_ops_common gs_ops_cpu gs_ops_cuda gs_tokenizer gs_comm gs_tensor gs_autograd gs_nn gs_analysis gradscope_all)
set_target_properties(gs_ops_common PROPERTIES EXPORT_NAME ops_common)
set_target_properties(gs_ops_cpu PROPERTIES EXPORT_NAME ops_cpu)
set_target_properties(gs_ops_cuda PROPERTIES EXPORT_NAME ops_cuda)
set_target_properties(gs_tokenizer PROPERTIES EXPORT_NAME tokenizer)
set_target_properties(gs_comm PROPERTIES EXPORT_NAME comm)
set_target_properties(gs_tensor PROPERTIES EXPORT_NAME tensor)
set_target_properties(gs_autograd PROPERTIES EXPORT_NAME autograd)
set_target_properties(gs_nn PROPERTIES EXPORT_NAME nn)
set_target_properties(gs_analysis PROPERTIES EXPORT_NAME analysis)
set_target_properties(gradscope_all PROPERTIES EXPORT_NAME gradscope)
foreach(t ${GS_EXPORTED})
  target_include_directories(${t} INTERFACE $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/gradscope>
                                            $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
endforeach()
install(TARGETS ${GS_EXPORTED} EXPORT gradscopeTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT gradscopeTargets NAMESPACE gradscope:: DESTINATION ${GS_CMAKE_DIR})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/gradscopeConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/gradscopeConfig.cmake INSTALL_DESTINATION ${GS_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/gradscopeConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/gradscopeConfig.cmake ${PROJECT_BINARY_DIR}/gradscopeConfigVersion.cmake
        DESTINATION ${GS_CMAKE_DIR})

# pkg-config: one flat link line (static libraries in dependency order).
set(GS_PC_CUDA "")
set(GS_PC_ONEDNN "")
set(GS_PC_MPI "")
if(GS_WITH_MPI)
  string(JOIN " " GS_PC_MPI ${MPI_CXX_LIBRARIES})  # full paths: Open MPI's libraries are off the default path
endif()
if(GS_WITH_ONEDNN)
  set(GS_PC_ONEDNN "-ldnnl")
endif()
if(GS_WITH_CUDA)
  find_package(CUDAToolkit REQUIRED)  # ops_cuda/ found it in its own directory scope
  set(GS_PC_CUDA "-L${CUDAToolkit_LIBRARY_DIR} -lcusolver -lcublas -lcudart")
  if(GS_WITH_NCCL)
    set(GS_PC_CUDA "-L${CUDAToolkit_LIBRARY_DIR} -lnccl -lcusolver -lcublas -lcudart")
  endif()
endif()
# Relocatable: the prefix is found from the .pc file's own location (pkg-config's ${pcfiledir}),
# so `cmake --install build --prefix <anywhere>` gives a working file.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(GS_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH GS_PC_UP "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
  string(REGEX REPLACE "/$" "" GS_PC_UP "${GS_PC_UP}")
  set(GS_PC_PREFIX "\${pcfiledir}/${GS_PC_UP}")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/gradscope.pc.in ${PROJECT_BINARY_DIR}/gradscope.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/gradscope.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
