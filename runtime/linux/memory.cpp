#include "linux/memory.hpp"

#include <link.h>
#include <sys/auxv.h>
#include <sys/mman.h>

#include <cstdint>
#include <cstring>

namespace husk::linux_setup {

namespace {

// For each loaded object (husk itself, libc, the dynamic loader), each
// PT_LOAD segment that is executable and not writable: text, never written,
// so MADV_DONTNEED only removes page-table entries of a private file mapping
// whose pages equal the file's (madvise(2)); the next access maps them again
// from the page cache. Writable segments (data, relocated RELRO) are never
// touched: there it would discard our modifications. The range is shrunk to
// whole pages inside the segment so that no neighbour is affected.
int drop_object_text(dl_phdr_info *info, size_t /*size*/, void *page_size) {
  if (info->dlpi_name != nullptr && std::strncmp(info->dlpi_name, "linux-vdso", 10) == 0) return 0;
  const uintptr_t page = *static_cast<uintptr_t *>(page_size);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr) &ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || (ph.p_flags & PF_X) == 0 || (ph.p_flags & PF_W) != 0) continue;
    uintptr_t begin = (info->dlpi_addr + ph.p_vaddr + page - 1) & ~(page - 1);
    uintptr_t end = (info->dlpi_addr + ph.p_vaddr + ph.p_memsz) & ~(page - 1);
    // NOLINTNEXTLINE(performance-no-int-to-ptr): addresses from the program headers
    if (end > begin) (void)::madvise(reinterpret_cast<void *>(begin), end - begin, MADV_DONTNEED);
  }
  return 0;
}

}  // namespace

void drop_code_pages() noexcept {
  uintptr_t page = ::getauxval(AT_PAGESZ);
  if (page == 0) page = 4096;
  ::dl_iterate_phdr(drop_object_text, &page);
}

}  // namespace husk::linux_setup
