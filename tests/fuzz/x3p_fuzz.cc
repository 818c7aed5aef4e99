// Fuzz target: the X3P reader. Only toolmark::Error may come out; anything
// else (crash, other exception, sanitizer report) is a bug.
// Two modes, chosen by the first byte, so that mutations reach past the zip
// layer (whose CRCs reject almost every blind mutation):
//   even: the rest is a whole X3P container;
//   odd:  the rest is "main.xml \0 point data", packed here into a container
//         (with validity mask and checksum entries the XML may name), read
//         with checksums ignored so parsing, scaling and units are reached.
#include <cstdint>
#include <string>

#include "fuzz_seeds.h"
#include "toolmark/engine/check.h"
#include "toolmark/ingest/x3p.h"
#include "toolmark/ingest/zip_archive.h"

namespace {

std::string Packed(std::string_view rest) {
  const std::size_t split = rest.find('\0');
  const std::string xml(rest.substr(0, split));
  const std::string data = split == std::string_view::npos ? "" : std::string(rest.substr(split + 1));
  return toolmark::ingest::BuildZip({{"main.xml", xml},
                                     {"bindata/data.bin", data},
                                     {"bindata/valid.bin", data.substr(0, data.size() / 8)},
                                     {"md5checksum.hex", "0 *main.xml\n"}},
                                    {"bindata/"});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  toolmark::ingest::ReadOptions options;
  options.limits.max_points = std::size_t{1} << 22;
  options.limits.max_side = 8192;
  options.limits.max_xml_bytes = 1 << 20;
  try {
    if (data[0] & 1) {
      options.ignore_checksum = true;
      toolmark::ingest::ReadX3pBytes(Packed(rest), options);
    } else {
      toolmark::ingest::ReadX3pBytes(rest, options);
    }
  } catch (const toolmark::Error&) {
  }
  return 0;
}

std::vector<std::string> ToolmarkFuzzSeeds() {
  using toolmark::fuzz::SmallSurface;
  std::vector<std::string> seeds;
  for (auto [sx, sy] : {std::pair{7, 5}, std::pair{1, 1}, std::pair{32, 3}}) {
    const std::string x3p = toolmark::ingest::WriteX3pBytes(SmallSurface(sx, sy));
    seeds.push_back('\0' + x3p);
    toolmark::ingest::ZipReader zip(x3p, 16);
    seeds.push_back('\1' + zip.ReadAtMost("main.xml", 1 << 20) + '\0' +
                    zip.ReadAtMost("bindata/data.bin", 1 << 20));
  }
  return seeds;
}
