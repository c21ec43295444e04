# layers_spawn.cmake - one child spawner, one signal helper (issue 11, part 2).
# Run: cmake -DSRC=<source tree> -P tests/layers_spawn.cmake (ctest: layers_spawn, label unit).
#
# In gen/, only spawn.c makes a process (fork) and only stopsig.c installs a
# signal handler (sigaction, signal()); no other gen/ file names them, not
# even in a comment, so that a newcomer who greps finds the one place. The
# lab runner goes through the spawner. nic/ starts the lab's sink with the
# command line its caller gives: no gen option is spelled in nic/.
if(NOT SRC)
  message(FATAL_ERROR "layers_spawn: pass -DSRC=<source tree>")
endif()

set(failures "")

# Files of @dir/*.c and *.h whose text matches @regex (word-bounded by the caller's regex).
function(files_matching out dir regex)
  file(GLOB files "${SRC}/${dir}/*.c" "${SRC}/${dir}/*.h")
  set(hits "")
  foreach(f ${files})
    file(READ "${f}" text)
    # a newline each side, so that a word at the very start or end is bounded too
    if("\n${text}\n" MATCHES "${regex}")
      get_filename_component(name "${f}" NAME)
      list(APPEND hits "${dir}/${name}")
    endif()
  endforeach()
  set(${out} "${hits}" PARENT_SCOPE)
endfunction()

# @what may appear in @only alone, and must appear there
function(only_in what regex only)
  files_matching(hits gen "${regex}")
  if(NOT hits STREQUAL "${only}")
    set(failures "${failures}\n  ${what}: named in [${hits}]; only ${only} may" PARENT_SCOPE)
  endif()
endfunction()

set(W "[^A-Za-z0-9_]")
only_in("fork" "${W}v?fork${W}" "gen/spawn.c")
only_in("posix_spawn" "${W}posix_spawnp?${W}" "")
only_in("sigaction" "${W}sigaction${W}" "gen/stopsig.c")
only_in("signal()" "${W}signal[ \t]*\\([ \t]*SIG" "gen/stopsig.c")

# and they are really called there
file(READ "${SRC}/gen/spawn.c" spawn_c)
if(NOT spawn_c MATCHES "${W}fork\\(\\)")
  set(failures "${failures}\n  gen/spawn.c does not call fork()")
endif()
file(READ "${SRC}/gen/stopsig.c" stopsig_c)
if(NOT stopsig_c MATCHES "${W}sigaction\\(")
  set(failures "${failures}\n  gen/stopsig.c does not call sigaction()")
endif()

# the lab runner makes its child through the spawner
file(READ "${SRC}/gen/labrun.c" labrun_c)
if(NOT labrun_c MATCHES "${W}spawn_child\\(")
  set(failures "${failures}\n  gen/labrun.c does not start its child with spawn_child()")
endif()

# nic/ takes the sink's command line from its caller
files_matching(hits nic "\"--(listen|quiet|gro)\"")
if(hits)
  set(failures "${failures}\n  ${hits}: spells a zcgen sink option; the caller gives the sink's command line (lab_cfg.sink_argv)")
endif()

if(failures)
  message(FATAL_ERROR "layers_spawn: FAIL${failures}")
endif()
message(STATUS "layers_spawn: ok (fork in gen/spawn.c, sigaction in gen/stopsig.c, nothing else names them)")
