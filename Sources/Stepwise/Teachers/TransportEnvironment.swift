import Foundation

/// What the process environment says about reaching one server, read the way Python's urllib
/// reads it (and so the OpenAI Python client, through httpx):
///
/// - the proxy for the server's scheme: `https_proxy` / `HTTPS_PROXY` for `https://`,
///   `http_proxy` / `HTTP_PROXY` for `http://`, else `all_proxy` / `ALL_PROXY`; the lower-case
///   name wins when both are set; an empty value is no proxy. `http://[user:password@]host[:port]`
///   (a bare `host:port` is taken as `http://`) or `socks5://host[:port]`.
/// - `no_proxy` / `NO_PROXY`: comma-separated host names (a name also covers its subdomains; a
///   leading dot is ignored), `host:port`, or `*` for every host. The server is then reached
///   directly.
/// - `SSL_CERT_FILE`: a PEM file whose certificates are the trusted roots instead of the
///   system's store (as OpenSSL and httpx use it) — how a self-signed or private CA is trusted.
struct TransportEnvironment: Equatable {
    struct Proxy: Equatable {
        enum Kind: Equatable { case http, socks5 }
        var kind: Kind
        var host: String
        var port: Int
        var username: String?
        var password: String?
    }

    var proxy: Proxy?
    /// Trust roots replacing the system's (`SSL_CERT_FILE`).
    var trustRootsFile: String?

    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    init(proxy: Proxy? = nil, trustRootsFile: String? = nil) {
        self.proxy = proxy
        self.trustRootsFile = trustRootsFile
    }

    /// The settings for requests to `url`; throws `Invalid` naming the variable that is wrong.
    init(for url: URL, environment: [String: String]) throws {
        func variable(_ name: String) -> (name: String, value: String)? {
            for n in [name.lowercased(), name.uppercased()] {
                if let v = environment[n]?.trimmingCharacters(in: .whitespaces) { return v.isEmpty ? nil : (n, v) }
            }
            return nil
        }
        let scheme = url.scheme?.lowercased() ?? "http"
        if let found = variable("\(scheme)_proxy") ?? variable("all_proxy"),
           !Self.bypassesProxy(url, noProxy: variable("no_proxy")?.value ?? "") {
            proxy = try Self.parseProxy(found.value, variable: found.name)
        }
        if let file = environment["SSL_CERT_FILE"], !file.isEmpty {
            guard FileManager.default.isReadableFile(atPath: file) else {
                throw Invalid(description: "SSL_CERT_FILE names \(file), which is not a readable file")
            }
            trustRootsFile = file
        }
    }

    /// Whether `no_proxy` exempts `url`'s host.
    static func bypassesProxy(_ url: URL, noProxy: String) -> Bool {
        guard var host = url.host?.lowercased(), !host.isEmpty else { return false }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let candidates = [host] + (url.port.map { ["\(host):\($0)"] } ?? [])
        for raw in noProxy.split(separator: ",") {
            var entry = raw.trimmingCharacters(in: .whitespaces).lowercased()
            if entry == "*" { return true }
            while entry.hasPrefix(".") { entry.removeFirst() }
            if entry.hasPrefix("["), let close = entry.firstIndex(of: "]") {   // [::1] or [::1]:8000
                entry = String(entry[entry.index(after: entry.startIndex)..<close]) + entry[entry.index(after: close)...]
            }
            guard !entry.isEmpty else { continue }
            if candidates.contains(where: { $0 == entry || $0.hasSuffix("." + entry) }) { return true }
        }
        return false
    }

    static func parseProxy(_ value: String, variable: String) throws -> Proxy {
        let text = value.contains("://") ? value : "http://" + value
        guard let c = URLComponents(string: text), let host = c.host, !host.isEmpty else {
            throw Invalid(description: "\(variable)=\(value) is not a proxy URL (expected http://host:port)")
        }
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        switch c.scheme?.lowercased() {
        case "http":
            return Proxy(kind: .http, host: bare, port: c.port ?? 80,
                         username: c.percentEncodedUser?.removingPercentEncoding,
                         password: c.percentEncodedPassword?.removingPercentEncoding)
        case "socks5", "socks5h":
            guard c.user == nil else {
                throw Invalid(description: "\(variable)=\(value): a SOCKS proxy with a user name is not supported")
            }
            return Proxy(kind: .socks5, host: bare, port: c.port ?? 1080)
        default:
            throw Invalid(description: "\(variable)=\(value): only http:// and socks5:// proxies are supported")
        }
    }
}
