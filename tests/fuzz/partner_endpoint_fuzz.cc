// Fuzz target: a partner's endpoint as `search --partners` and `keys trust
// --url` take it (ParseEndpointUrl, IsLoopbackHost) and a pinned
// certificate as the catalog hands it back (CertificateFingerprint). Any
// exception other than toolmark::Error escapes and counts as a finding, and
// so does a parsed URL that breaks its own promises.
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_seeds.h"
#include "toolmark/engine/check.h"
#include "toolmark/exchange/tls.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const toolmark::exchange::EndpointUrl u = toolmark::exchange::ParseEndpointUrl(text);
    if (u.host.empty() || u.port < 1 || u.port > 65535) __builtin_trap();
    if (u.host.find_first_of("/?#@ \t\r\n") != std::string::npos) __builtin_trap();
    (void)toolmark::exchange::IsLoopbackHost(u.host);
  } catch (const toolmark::Error&) {
  }
  try {
    const std::string fingerprint = toolmark::exchange::CertificateFingerprint(text);
    if (fingerprint.size() != 32 * 3 - 1) __builtin_trap();
  } catch (const toolmark::Error&) {
  }
  return 0;
}

std::vector<std::string> ToolmarkFuzzSeeds() {
  return {"https://de.example:8443",
          "http://127.0.0.1:8765/",
          "https://[::1]:9",
          "https://[::ffff:127.0.0.1]",
          "http://localhost",
          "NL",
          "-----BEGIN CERTIFICATE-----\n"
          "MIIBhjCCASygAwIBAgIUGABqm5fOBxKGmklaxMvk51vG238wCgYIKoZIzj0EAwIw\n"
          "DzENMAsGA1UEAwwEZnV6ejAgFw0yNjEyMDYwNTIyNTlaGA8yMTI2MTExMjA1MjI1\n"
          "OVowDzENMAsGA1UEAwwEZnV6ejBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABDbY\n"
          "Cb8jVEKS09s1wvm3OO8sVMx2zBrLp2hfr9HyOyNwK9eUpkSD8M8b6taL7tJbK6b3\n"
          "E+Sw0i5WgUUO1pR63gyjZDBiMB0GA1UdDgQWBBRIhNeFdCC9Nf0ykmHkFQVwONMw\n"
          "jDAfBgNVHSMEGDAWgBRIhNeFdCC9Nf0ykmHkFQVwONMwjDAPBgNVHRMBAf8EBTAD\n"
          "AQH/MA8GA1UdEQQIMAaHBH8AAAEwCgYIKoZIzj0EAwIDSAAwRQIhAJOThZ/Juea3\n"
          "TvaMfESBXybblB0tku3bXsoqiVYVfAJsAiB3e/pFZHIBAgyHGDMdoKkkmTmDk5JM\n"
          "VSJpCZxygc48xA==\n"
          "-----END CERTIFICATE-----\n"};
}
