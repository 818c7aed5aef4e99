#pragma once

namespace toolmark {
/// The Toolmark version recorded with every ingested item and result.
const char* Version();
}  // namespace toolmark
