#include "toolmark/engine/version.h"

namespace toolmark {
const char* Version() { return TOOLMARK_VERSION; }
}  // namespace toolmark
