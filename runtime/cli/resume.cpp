// husk resume <container-id>
#include "cli/context.hpp"
#include "cli/verbs.hpp"

namespace husk::cli {

namespace {

int resume(const GlobalOptions &g, const ParsedArgs &a) {
  auto st = lifecycle::resume(make_context(g), a.positional[0]);
  return st ? 0 : report(g, st.error());
}

}  // namespace

const Command kResumeCommand{
    .name = "resume",
    .summary = "thaw a paused container",
    .usage = "resume <container-id>",
    .description =
        "Lets the processes that `husk pause` froze run again; the status returns to "
        "\"running\".",
    .examples = "husk resume web",
    .run = resume,
};

}  // namespace husk::cli
