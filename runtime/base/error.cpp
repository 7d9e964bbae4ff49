#include "base/error.hpp"

#include <cstring>

namespace husk {

std::string Error::message() const {
  std::string out;
  for (auto it = context_.rbegin(); it != context_.rend(); ++it) {
    out += *it;
    out += ": ";
  }
  out += op_;
  if (err_ != 0) {
    out += ": ";
    out += std::strerror(err_);
  }
  return out;
}

}  // namespace husk
