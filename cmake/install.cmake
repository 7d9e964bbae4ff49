# `cmake --install` and `cpack -G DEB`: husk installs as Debian installs runc
# (the binary in sbin, its pages in section 8), stripped, with its debug info
# in a separate file found by build id (component "debug", package husk-dbg).
include(GNUInstallDirs)

find_program(HUSK_OBJCOPY NAMES objcopy REQUIRED)

# The build tree's husk carries ~90 MB of DWARF. At install time it is split:
# the debug sections (compressed) into husk.debug, the rest stripped, with a
# debuglink to that file. gdb finds the debug file by the build id under
# <prefix>/lib/debug/.build-id/, as with Debian's -dbgsym packages.
# The script sets `out` (where the two files are) and `build_id`.
set(HUSK_SPLIT_SCRIPT ${CMAKE_BINARY_DIR}/husk-split.cmake)
file(GENERATE OUTPUT ${HUSK_SPLIT_SCRIPT} CONTENT "
set(bin \"$<TARGET_FILE:husk>\")
set(out \"$<TARGET_FILE_DIR:husk>/split\")
file(MAKE_DIRECTORY \"\${out}\")
if(NOT EXISTS \"\${out}/husk\" OR \"\${bin}\" IS_NEWER_THAN \"\${out}/husk\")
  execute_process(COMMAND \"${HUSK_OBJCOPY}\" --only-keep-debug --compress-debug-sections=zlib
                          \"\${bin}\" \"\${out}/husk.debug\" COMMAND_ERROR_IS_FATAL ANY)
  execute_process(COMMAND \"${HUSK_OBJCOPY}\" --strip-debug --strip-unneeded
                          \"--add-gnu-debuglink=\${out}/husk.debug\" \"\${bin}\" \"\${out}/husk\"
                  COMMAND_ERROR_IS_FATAL ANY)
endif()
# The build id: the note's 20 bytes after its 16-byte header.
execute_process(COMMAND \"${HUSK_OBJCOPY}\" -O binary --only-section=.note.gnu.build-id
                        \"\${bin}\" \"\${out}/build-id.bin\" COMMAND_ERROR_IS_FATAL ANY)
file(READ \"\${out}/build-id.bin\" note HEX)
string(SUBSTRING \"\${note}\" 32 -1 build_id)
")

install(CODE "
  include(\"${HUSK_SPLIT_SCRIPT}\")
  file(INSTALL DESTINATION \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_SBINDIR}\" TYPE PROGRAM
       FILES \"\${out}/husk\")
" COMPONENT runtime)
install(DIRECTORY ${HUSK_DOCS_DIR}/man8/ DESTINATION ${CMAKE_INSTALL_MANDIR}/man8
        COMPONENT runtime)
install(FILES ${HUSK_DOCS_DIR}/completions/husk.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME husk
        COMPONENT runtime)
install(FILES ${HUSK_DOCS_DIR}/completions/_husk
        DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions COMPONENT runtime)
install(FILES ${HUSK_DOCS_DIR}/completions/husk.fish
        DESTINATION ${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d COMPONENT runtime)
install(FILES ${CMAKE_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR}
        RENAME copyright COMPONENT runtime)
install(CODE "
  include(\"${HUSK_SPLIT_SCRIPT}\")
  string(SUBSTRING \"\${build_id}\" 0 2 dir)
  string(SUBSTRING \"\${build_id}\" 2 -1 name)
  file(INSTALL DESTINATION \"\${CMAKE_INSTALL_PREFIX}/lib/debug/.build-id/\${dir}\" TYPE FILE
       RENAME \"\${name}.debug\" FILES \"\${out}/husk.debug\")
" COMPONENT debug)

# Debian packages: husk (runtime) and husk-dbg (debug). The binary is one
# static PIE: dpkg-shlibdeps finds no shared library, so Depends lists only
# what husk runs: ps(1) for `husk ps` (procps, Recommends: only that verb).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME husk)
set(CPACK_PACKAGE_VENDOR husk)
set(CPACK_PACKAGE_CONTACT "husk maintainers <husk@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "OCI container runtime")
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION
    "husk runs containers from OCI bundles (a root filesystem and a config.json), as\n\
runc and crun do, with the same command line, so podman and containerd can use\n\
it as their runtime. It is one static binary.")
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime debug)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME husk)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_RECOMMENDS procps)
set(CPACK_DEBIAN_DEBUG_PACKAGE_NAME husk-dbg)
set(CPACK_DEBIAN_DEBUG_PACKAGE_SECTION debug)
set(CPACK_DEBIAN_DEBUG_PACKAGE_DEPENDS "husk (= ${PROJECT_VERSION})")
set(CPACK_COMPONENT_DEBUG_DESCRIPTION
    "The DWARF of /usr/sbin/husk, in a file gdb finds through the binary's build id.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
include(CPack)
