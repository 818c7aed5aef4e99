// TLS for the server and for federated search: certificate files checked
// before they are used, partner URLs parsed, loopback told apart from the
// network (plain HTTP is for loopback only). See docs/exchange.md.
#pragma once

#include <string>

namespace toolmark::exchange {

/// A partner's (or a server's) address: http(s)://HOST[:PORT].
struct EndpointUrl {
  bool https = false;
  std::string host;  ///< without the brackets of an IPv6 address
  int port = 0;      ///< 443 or 80 when the URL gives none
};

/// Parses http(s)://HOST[:PORT] (a trailing "/" allowed, nothing else
/// after); throws toolmark::Error (one line) for anything else.
EndpointUrl ParseEndpointUrl(const std::string& url);

/// The URL without one trailing "/" (how endpoints are stored and compared).
std::string WithoutTrailingSlash(std::string url);

/// localhost, 127.0.0.0/8, ::1 and ::ffff:127.x.y.z: addresses that never leave this machine.
bool IsLoopbackHost(const std::string& host);

/// Reads one X.509 certificate (PEM) from a file and returns its PEM text;
/// throws toolmark::Error for a missing file, no or several certificates,
/// or one that has expired.
std::string ReadCertificatePem(const std::string& path);

/// The SHA-256 fingerprint of a PEM certificate (of its DER bytes), as
/// upper-case hex pairs joined by ':'; throws for text that is not one.
std::string CertificateFingerprint(const std::string& pem);

/// Checks a server's certificate and private key files: both readable PEM,
/// the key the certificate's, the certificate current. Throws toolmark::Error
/// saying which is wrong.
void CheckServerTlsFiles(const std::string& cert_path, const std::string& key_path);

}  // namespace toolmark::exchange
