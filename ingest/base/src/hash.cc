#include "toolmark/base/hash.h"

#include <openssl/evp.h>

#include <memory>

#include "toolmark/engine/check.h"

namespace toolmark::base {
namespace {

std::string DigestHex(std::string_view bytes, const EVP_MD* md) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  TM_ASSERT(ctx != nullptr);
  TM_ASSERT(EVP_DigestInit_ex(ctx.get(), md, nullptr) == 1);
  TM_ASSERT(EVP_DigestUpdate(ctx.get(), bytes.data(), bytes.size()) == 1);
  TM_ASSERT(EVP_DigestFinal_ex(ctx.get(), out, &len) == 1);
  static const char* kHex = "0123456789abcdef";
  std::string hex(2 * len, '0');
  for (unsigned int i = 0; i < len; ++i) {
    hex[2 * i] = kHex[out[i] >> 4];
    hex[2 * i + 1] = kHex[out[i] & 15];
  }
  return hex;
}

}  // namespace

std::string Sha256Hex(std::string_view bytes) { return DigestHex(bytes, EVP_sha256()); }
std::string Md5Hex(std::string_view bytes) { return DigestHex(bytes, EVP_md5()); }

}  // namespace toolmark::base
