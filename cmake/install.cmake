# Installation: headers under include/gradscope/<layer>/, libraries, a CMake package
# (find_package(gradscope 0.1)) exporting gradscope::tensor, ::autograd, ::nn, ::analysis and the
# umbrella gradscope::gradscope, and a pkg-config file for builds without CMake.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(GS_INSTALL_INCLUDE ${CMAKE_INSTALL_INCLUDEDIR}/gradscope)
set(GS_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/gradscope)

# Headers keep their layer folders: #include "tensor/tensor.h" works with include/gradscope on
# the include path, and <gradscope/tensor/tensor.h> with include/.
foreach(layer tensor autograd nn analysis ops_cpu ops_cuda)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${layer}/ DESTINATION ${GS_INSTALL_INCLUDE}/${layer}
          FILES_MATCHING PATTERN "*.h" PATTERN "stub" EXCLUDE)
endforeach()
install(FILES ${PROJECT_BINARY_DIR}/generated/gradscope/version.h DESTINATION ${GS_INSTALL_INCLUDE})

set(GS_EXPORTED gs_ops_cpu gs_ops_cuda gs_tensor gs_autograd gs_nn gs_analysis gradscope_all)
set_target_properties(gs_ops_cpu PROPERTIES EXPORT_NAME ops_cpu)
set_target_properties(gs_ops_cuda PROPERTIES EXPORT_NAME ops_cuda)
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
if(GS_WITH_CUDA)
  set(GS_PC_CUDA "-L${CUDAToolkit_LIBRARY_DIR} -lcusolver -lcublas -lcudart")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/gradscope.pc.in ${PROJECT_BINARY_DIR}/gradscope.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/gradscope.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
