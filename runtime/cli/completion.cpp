// Shell completions from the command table: verbs, each verb's flags, flag
// values (directories for DIR, files for FILE and PATH, the words of a choice
// "a|b"), and the ids of existing containers from `husk list -q`, run with
// the --root on the command line.
#include <fmt/format.h>

#include <string_view>

#include "cli/commands.hpp"
#include "cli/docs.hpp"

namespace husk::cli {

namespace {

enum class ValueKind : unsigned char { None, Dir, File, Choice };

ValueKind value_kind(const OptionSpec& o) {
  if (!o.takes_value || o.value_name == nullptr) return ValueKind::None;
  std::string_view v = o.value_name;
  if (v == "DIR") return ValueKind::Dir;
  if (v == "FILE" || v == "PATH") return ValueKind::File;
  if (v.find('|') != std::string_view::npos) return ValueKind::Choice;
  return ValueKind::None;
}

// "table|json" -> "table json"
std::string choice_words(const OptionSpec& o) {
  std::string out(o.value_name);
  for (char& c : out) c = c == '|' ? ' ' : c;
  return out;
}

// The spellings completion offers: --long and -s.
std::string spellings(const OptionSpec& o, std::string_view sep) {
  std::string out = fmt::format("--{}", o.long_name);
  if (o.short_name != 0) out += fmt::format("{}-{}", sep, o.short_name);
  return out;
}

std::string all_flags(std::span<const OptionSpec> specs) {
  std::string out;
  for (const auto& o : specs) out += spellings(o, " ") + " ";
  return out + "--help -h";
}

// Inside single quotes: ' becomes '\''.
std::string single_quoted(std::string_view s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string verb_names() {
  std::string out;
  for (const Command* c : commands()) out += std::string(c->name) + " ";
  return out + "help";
}

// bash: one case arm per (verb, value option): "verb:--opt|verb:-o) action ;;".
std::string bash_value_arms(std::string_view verb, std::span<const OptionSpec> specs) {
  std::string out;
  for (const auto& o : specs) {
    if (!o.takes_value) continue;
    std::string pat = fmt::format("{}:--{}", verb, o.long_name);
    if (o.short_name != 0) pat += fmt::format("|{}:-{}", verb, o.short_name);
    std::string action = "COMPREPLY=()";
    switch (value_kind(o)) {
      case ValueKind::Dir:
        action = "COMPREPLY=($(compgen -d -- \"$cur\"))";
        break;
      case ValueKind::File:
        action = "COMPREPLY=($(compgen -f -- \"$cur\"))";
        break;
      case ValueKind::Choice:
        action = fmt::format("COMPREPLY=($(compgen -W \"{}\" -- \"$cur\"))", choice_words(o));
        break;
      case ValueKind::None:
        break;
    }
    out += fmt::format("    {}) {} ;;\n", pat, action);
  }
  return out;
}

// @STOP@ is replaced by the verbs whose options end at their first operand
// (exec, ps: what follows the container id is a command line).
constexpr std::string_view kBashMain = R"sh(
_husk() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
  local verb="" root="" i w operands=0 stop=" @STOP@ "
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    if [[ -z $verb ]]; then
      case $w in
        --root) root=${COMP_WORDS[i+1]} ;;
        --root=*) root=${w#--root=} ;;
      esac
      if [[ $w != -* ]]; then
        verb=$w
      elif [[ $w != *=* ]] && _husk_takes_value ":$w"; then
        ((i++))
      fi
    elif [[ $w == -* && ( $operands -eq 0 || $stop != *" $verb "* ) ]]; then
      if [[ $w != *=* ]] && _husk_takes_value "$verb:$w"; then ((i++)); fi
    else
      ((operands++))
    fi
  done
  COMPREPLY=()
  local options_end=0
  [[ $operands -gt 0 && $stop == *" $verb "* ]] && options_end=1
  if [[ $options_end -eq 0 ]] && _husk_takes_value "$verb:$prev"; then
    _husk_value "$verb:$prev"
    return 0
  fi
  if [[ $cur == -* && $options_end -eq 0 ]]; then
    COMPREPLY=($(compgen -W "$(_husk_flags "$verb")" -- "$cur"))
    return 0
  fi
  if [[ -z $verb ]]; then
    COMPREPLY=($(compgen -W "$(_husk_flags __verbs)" -- "$cur"))
    return 0
  fi
  case "$verb:$operands" in
    help:0) COMPREPLY=($(compgen -W "$(_husk_flags __verbs)" -- "$cur")) ;;
    kill:1) COMPREPLY=($(compgen -W "$(compgen -A signal | sed 's/^SIG//' | grep -v -e EXIT -e JUNK)" -- "$cur")) ;;
)sh";

constexpr std::string_view kBashTail = R"sh(  esac
}
complete -F _husk husk
)sh";

std::string bash_takes_value() {
  std::string pats;
  auto add = [&pats](std::string_view verb, std::span<const OptionSpec> specs) {
    for (const auto& o : specs) {
      if (!o.takes_value) continue;
      pats += fmt::format("|{}:--{}", verb, o.long_name);
      if (o.short_name != 0) pats += fmt::format("|{}:-{}", verb, o.short_name);
    }
  };
  add("", global_options());
  for (const Command* c : commands()) add(c->name, c->options);
  return fmt::format(
      "# \"verb:flag\" (\":flag\" for a global one): does the flag take a value?\n"
      "_husk_takes_value() {{\n  case $1 in\n    {}) return 0 ;;\n  esac\n  return 1\n}}\n\n",
      pats.substr(1));
}

}  // namespace

std::string bash_completion() {
  std::string out =
      "# bash completion for husk. Generated by husk __gen-docs from the command table; do not "
      "edit.\n\n"
      "_husk_ids() {\n"
      "  \"${COMP_WORDS[0]}\" ${1:+--root \"$1\"} list --quiet 2>/dev/null\n"
      "}\n\n"
      "# The flags of a verb (no verb: the global flags); __verbs: the verbs.\n"
      "_husk_flags() {\n  case $1 in\n";
  out += fmt::format("    __verbs) echo \"{}\" ;;\n", verb_names());
  out += fmt::format("    \"\") echo \"{}\" ;;\n", all_flags(global_options()));
  for (const Command* c : commands()) {
    out += fmt::format("    {}) echo \"{}\" ;;\n", c->name, all_flags(c->options));
  }
  out +=
      "  esac\n}\n\n"
      "# Complete the value of \"verb:flag\".\n"
      "_husk_value() {\n  case $1 in\n";
  out += bash_value_arms("", global_options());
  for (const Command* c : commands()) out += bash_value_arms(c->name, c->options);
  out += "  esac\n}\n\n";
  out += bash_takes_value();
  std::string stop;
  for (const Command* c : commands()) {
    if (c->order == ArgOrder::StopAtPositional)
      stop += std::string(stop.empty() ? "" : " ") + c->name;
  }
  std::string main(kBashMain.substr(1));
  main.replace(main.find("@STOP@"), 6, stop);
  out += main;
  std::string ids;
  for (const Command* c : commands()) {
    if (c->operand == Operand::ContainerId) ids += fmt::format("{}:0|", c->name);
  }
  if (!ids.empty()) {
    ids.pop_back();
    out += fmt::format(
        "    {}) COMPREPLY=($(compgen -W \"$(_husk_ids \"$root\")\" -- \"$cur\")) ;;\n", ids);
  }
  out += kBashTail;
  return out;
}

namespace {

// zsh _arguments text: [ ] \ escaped in descriptions, : in messages.
std::string zsh_escape(std::string_view s, std::string_view special) {
  std::string out;
  for (char c : s) {
    if (special.find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string zsh_option(const OptionSpec& o) {
  std::string desc = zsh_escape(o.help ? o.help : "", "[]\\");
  std::string tail;
  if (o.takes_value) {
    std::string action = " ";
    switch (value_kind(o)) {
      case ValueKind::Dir:
        action = "_files -/";
        break;
      case ValueKind::File:
        action = "_files";
        break;
      case ValueKind::Choice:
        action = "(" + choice_words(o) + ")";
        break;
      case ValueKind::None:
        break;
    }
    tail = fmt::format(":{}:{}", zsh_escape(o.value_name ? o.value_name : "value", ":\\"), action);
  }
  std::string spec = fmt::format("[{}]{}", desc, tail);
  std::string lng = fmt::format("--{}{}", o.long_name, o.takes_value ? "=" : "");
  if (o.short_name == 0) return single_quoted((o.repeatable ? "*" : "") + lng + spec);
  std::string shrt = fmt::format("-{}{}", o.short_name, o.takes_value ? "+" : "");
  std::string excl = o.repeatable ? "*" : fmt::format("(--{} -{})", o.long_name, o.short_name);
  return fmt::format("{}{{{},{}}}{}", single_quoted(excl), lng, shrt, single_quoted(spec));
}

std::string zsh_specs(std::span<const OptionSpec> specs) {
  std::string out;
  for (const auto& o : specs) out += "    " + zsh_option(o) + " \\\n";
  return out + "    '(- *)'{--help,-h}'[show this help]' \\\n";
}

std::string zsh_verb(const Command& c) {
  std::string out = fmt::format("_husk_{}() {{\n  _arguments -s{} \\\n", c.name,
                                c.order == ArgOrder::StopAtPositional ? " -A '-*'" : "");
  out += zsh_specs(c.options);
  switch (c.operand) {
    case Operand::ContainerId:
      out += "    '1:container:_husk_ids'";
      break;
    case Operand::NewId:
      out += "    '1:new container id: '";
      break;
    case Operand::None:
      out += "    ''";
      break;
  }
  if (std::string_view(c.name) == "kill") {
    out += " \\\n    '2:signal:_signals'";
  } else if (c.max_args > 1) {
    out += " \\\n    '*::argument: '";
  }
  return out + "\n}\n\n";
}

constexpr std::string_view kZshHead = R"sh(#compdef husk
# zsh completion for husk. Generated by husk __gen-docs from the command table; do not edit.

_husk_ids() {
  local -a ids
  ids=(${(f)"$(${_husk_cmd:-husk} ${_husk_root:+--root} ${_husk_root} list --quiet 2>/dev/null)"})
  _describe -t containers container ids
}

)sh";

constexpr std::string_view kZshMain = R"sh(    '1:command:->verb' \
    '*::argument:->args'
  _husk_root=${opt_args[--root]}
  case $state in
    verb|help)
      local -a verbs
      verbs=(@VERBS@)
      _describe -t commands 'husk command' verbs ;;
    args)
      if [[ $words[1] == help ]]; then
        local -a verbs
        verbs=(@VERBS@)
        _describe -t commands 'husk command' verbs
      elif (( $+functions[_husk_$words[1]] )); then
        _husk_$words[1]
      fi ;;
  esac
}

_husk "$@"
)sh";

}  // namespace

std::string zsh_completion() {
  std::string out(kZshHead.substr(0));
  for (const Command* c : commands()) out += zsh_verb(*c);
  out +=
      "_husk() {\n  local curcontext=$curcontext state line _husk_cmd=$words[1] _husk_root\n"
      "  typeset -A opt_args\n  _arguments -C -A '-*' \\\n";
  out += zsh_specs(global_options());
  std::string verbs;
  for (const Command* c : commands()) {
    verbs += single_quoted(fmt::format("{}:{}", c->name, zsh_escape(c->summary, ":"))) + " ";
  }
  verbs += "'help:show the help of a command'";
  std::string main(kZshMain);
  for (size_t at; (at = main.find("@VERBS@")) != std::string::npos;) main.replace(at, 7, verbs);
  return out + main;
}

namespace {

// fish: inside single quotes, \ and ' are escaped.
std::string fish_quoted(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string fish_option(std::string_view cond, const OptionSpec& o) {
  std::string out = fmt::format("complete -c husk -n {} -l {}", fish_quoted(cond), o.long_name);
  if (o.short_name != 0) out += fmt::format(" -s {}", o.short_name);
  switch (o.takes_value ? value_kind(o) : ValueKind::None) {
    case ValueKind::Dir:
      out += " -x -a '(__fish_complete_directories (commandline -ct))'";
      break;
    case ValueKind::File:
      out += " -r -F";
      break;
    case ValueKind::Choice:
      out += " -x -a " + fish_quoted(choice_words(o));
      break;
    case ValueKind::None:
      if (o.takes_value) out += " -x";
      break;
  }
  return out + " -d " + fish_quoted(o.help ? o.help : "") + "\n";
}

constexpr std::string_view kFishHead =
    R"sh(# fish completion for husk. Generated by husk __gen-docs from the command table; do not edit.

# The verb: the first word that is neither a global flag nor its value.
function __husk_verb
    set -l words (commandline -opc)
    set -e words[1]
    set -l skip 0
    for w in $words
        if test $skip = 1
            set skip 0
            continue
        end
        switch $w
            case @GLOBAL_VALUE_FLAGS@
                set skip 1
            case '-*'
            case '*'
                echo $w
                return 0
        end
    end
    return 1
end

function __husk_verb_is
    set -l verb (__husk_verb); or return 1
    contains -- $verb $argv
end

# True while no operand follows the verb yet.
function __husk_no_operand
    set -l words (commandline -opc)
    set -l verb (__husk_verb)
    set -l i (contains -i -- $verb $words)
    for w in $words[(math $i + 1)..-1]
        string match -q -- '-*' $w; or return 1
    end
    return 0
end

function __husk_ids
    set -l words (commandline -opc)
    set -l root
    if set -l i (contains -i -- --root $words)
        set root --root $words[(math $i + 1)]
    end
    type -q $words[1]; and $words[1] $root list --quiet 2>/dev/null
end

complete -c husk -f
)sh";

}  // namespace

std::string fish_completion() {
  std::string value_flags;
  for (const auto& o : global_options()) {
    if (o.takes_value) value_flags += fmt::format(" --{}", o.long_name);
  }
  std::string out(kFishHead);
  out.replace(out.find("@GLOBAL_VALUE_FLAGS@"), 20, value_flags.substr(1));
  for (const Command* c : commands()) {
    out += fmt::format("complete -c husk -n 'not __husk_verb' -a {} -d {}\n", c->name,
                       fish_quoted(c->summary));
  }
  out += "complete -c husk -n 'not __husk_verb' -a help -d 'show the help of a command'\n";
  out += "complete -c husk -n '__husk_verb_is help' -a '" + verb_names() + "'\n";
  for (const auto& o : global_options()) out += fish_option("not __husk_verb", o);
  out += "complete -c husk -n 'not __husk_verb' -l help -s h -d 'show this help'\n";
  std::string with_ids;
  for (const Command* c : commands()) {
    std::string cond = fmt::format("__husk_verb_is {}", c->name);
    for (const auto& o : c->options) out += fish_option(cond, o);
    out +=
        fmt::format("complete -c husk -n {} -l help -s h -d 'show this help'\n", fish_quoted(cond));
    if (c->operand == Operand::ContainerId) with_ids += std::string(" ") + c->name;
  }
  out += fmt::format(
      "complete -c husk -n '__husk_verb_is{}; and __husk_no_operand' -a '(__husk_ids)' "
      "-d container\n",
      with_ids);
  return out;
}

}  // namespace husk::cli
