#include "toolmark/exchange/tls.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <vector>

#include "toolmark/base/file_io.h"
#include "toolmark/engine/check.h"

namespace toolmark::exchange {
namespace {

constexpr std::size_t kMaxPemBytes = 64 * 1024;

struct FreeX509 {
  void operator()(X509* x) const { X509_free(x); }
};
struct FreeKey {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct FreeBio {
  void operator()(BIO* b) const { BIO_free(b); }
};
using X509Ptr = std::unique_ptr<X509, FreeX509>;

/// A PEM file of at most 64 KB, or a one-line error naming the flag.
std::string ReadSmallFile(const std::string& path, const char* what) {
  try {
    return base::ReadFileBounded(path, kMaxPemBytes);
  } catch (const Error& e) {
    throw Error(std::string(what) + " " + path + ": " + e.what());
  }
}

/// Every certificate in a PEM text (none when it holds none).
std::vector<X509Ptr> Certificates(const std::string& pem) {
  std::unique_ptr<BIO, FreeBio> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Check(bio != nullptr, "out of memory reading a certificate");
  std::vector<X509Ptr> out;
  while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(x);
  return out;
}

X509Ptr OneCertificate(const std::string& pem, const std::string& what) {
  std::vector<X509Ptr> certs = Certificates(pem);
  Check(!certs.empty(), what + ": no PEM certificate in it");
  Check(certs.size() == 1, what + ": holds " + std::to_string(certs.size()) +
                               " certificates; give the partner's own (leaf) certificate alone");
  return std::move(certs[0]);
}

void CheckCurrent(X509* cert, const std::string& what) {
  Check(X509_cmp_current_time(X509_get0_notBefore(cert)) < 0, what + ": not valid yet");
  Check(X509_cmp_current_time(X509_get0_notAfter(cert)) > 0, what + ": has expired");
}

}  // namespace

std::string WithoutTrailingSlash(std::string url) {
  if (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) != 1) return false;
  static const unsigned char kLoop[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  if (std::equal(v6.s6_addr, v6.s6_addr + 16, kLoop)) return true;
  static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::equal(v6.s6_addr, v6.s6_addr + 12, kMapped) && v6.s6_addr[12] == 127;
}

EndpointUrl ParseEndpointUrl(const std::string& url) {
  const std::string shown = url.substr(0, 80);
  EndpointUrl e;
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    e.https = true;
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    Fail("partner '" + shown + "': not an http(s):// URL (nor a jurisdiction with a recorded endpoint)");
  }
  rest = WithoutTrailingSlash(rest);
  Check(!rest.empty() && url.size() <= 300 && rest.find_first_of("/?#@ \t\r\n\\") == std::string::npos,
        "partner URL '" + shown + "': give http(s)://HOST[:PORT], nothing after it");
  std::string port;
  if (rest.front() == '[') {
    const std::size_t close = rest.find(']');
    Check(close != std::string::npos, "partner URL '" + shown + "': unclosed '[' of an IPv6 address");
    e.host = rest.substr(1, close - 1);
    const std::string tail = rest.substr(close + 1);
    Check(tail.empty() || tail.front() == ':', "partner URL '" + shown + "': junk after the IPv6 address");
    if (!tail.empty()) port = tail.substr(1);
  } else {
    const std::size_t colon = rest.find(':');
    e.host = rest.substr(0, colon);
    if (colon != std::string::npos) port = rest.substr(colon + 1);
  }
  Check(!e.host.empty(), "partner URL '" + shown + "': no host");
  e.port = e.https ? 443 : 80;
  if (!port.empty()) {
    Check(port.size() <= 5 && port.find_first_not_of("0123456789") == std::string::npos,
          "partner URL '" + shown + "': port '" + port + "' is not a number");
    e.port = std::stoi(port);
    Check(e.port >= 1 && e.port <= 65535, "partner URL '" + shown + "': port out of range");
  }
  return e;
}

std::string ReadCertificatePem(const std::string& path) {
  const std::string pem = ReadSmallFile(path, "certificate");
  X509Ptr cert = OneCertificate(pem, "certificate " + path);
  CheckCurrent(cert.get(), "certificate " + path);
  return pem;
}

std::string CertificateFingerprint(const std::string& pem) {
  X509Ptr cert = OneCertificate(pem, "certificate");
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  Check(X509_digest(cert.get(), EVP_sha256(), md, &n) == 1, "certificate: cannot digest it");
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) {
    if (i > 0) out.push_back(':');
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

void CheckServerTlsFiles(const std::string& cert_path, const std::string& key_path) {
  const std::string what = "--tls-cert " + cert_path;
  const std::string pem = ReadSmallFile(cert_path, "--tls-cert");
  std::vector<X509Ptr> chain = Certificates(pem);
  Check(!chain.empty(), what + ": no PEM certificate in it");
  CheckCurrent(chain.front().get(), what);
  const std::string key_pem = ReadSmallFile(key_path, "--tls-key");
  std::unique_ptr<BIO, FreeBio> bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  std::unique_ptr<EVP_PKEY, FreeKey> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  Check(key != nullptr, "--tls-key " + key_path + ": no unencrypted PEM private key in it");
  Check(X509_check_private_key(chain.front().get(), key.get()) == 1,
        "--tls-key " + key_path + ": not the private key of " + what);
}

}  // namespace toolmark::exchange
