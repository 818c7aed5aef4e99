// Private: the query side of a screening score, decoded once for many
// candidates (a search scores one query code against thousands).
#pragma once

#include <vector>

namespace toolmark::detail {

/// `features` decoded by `decode(features, &code)`, kept per thread and per
/// code type while the numbers stay identical (compared whole, so a
/// different query is never mistaken for it). A code that fails to decode
/// (decode throws) is not remembered.
template <typename Code>
const Code& DecodedQuery(const std::vector<float>& features,
                         void (*decode)(const std::vector<float>&, Code*)) {
  thread_local std::vector<float> last;
  thread_local bool decoded = false;
  thread_local Code code;
  if (!decoded || features != last) {
    decoded = false;
    decode(features, &code);
    last = features;
    decoded = true;
  }
  return code;
}

}  // namespace toolmark::detail
