// Memory the container's init gives back while it waits for `start`.
#pragma once

namespace husk::linux_setup {

// Unmaps the pages of executable code (husk's and its shared libraries')
// that the init has in its page tables. Called by the init just before it
// blocks on exec.fifo: setup touched a megabyte or two of code that it will
// not run again, and a created container can wait for `start` indefinitely.
// The pages stay in the page cache; the few the init runs after `start` are
// faulted back in (minor faults). No allocation, async-signal-safe.
void drop_code_pages() noexcept;

}  // namespace husk::linux_setup
