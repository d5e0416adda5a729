import Foundation

/// What the hub says about a model at a revision (`GET /api/models/{repo}/revision/{rev}`):
/// the commit the revision points to and the repository's file names.
struct HubModelInfo: Equatable {
    let commit: String
    let files: Set<String>

    static func fetch(_ id: HubModelID, client: HubHTTPClient, note: ((String) -> Void)?) async throws -> HubModelInfo {
        let url = client.endpoint.modelInfoURL(id)
        let response = try await client.withRetries("asking \(url.absoluteString)", note: note) { () -> HTTPResponse in
            let r = try await client.transport(for: url).send(client.request("GET", url))
            try HubHTTPClient.checkBusy(r, url: url)
            return r
        }
        guard response.status == 200 else {
            throw HubErrors.refusal(response, url: url, id: id, what: "the file list", endpoint: client.endpoint)
        }
        return try parse(response.body, source: url.absoluteString)
    }

    /// The JSON's `sha` (a 40-hex commit) and `siblings[].rfilename`.
    static func parse(_ body: Data, source: String) throws -> HubModelInfo {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw StepwiseError("\(source) did not answer with a JSON object: \(String(decoding: body.prefix(200), as: UTF8.self))")
        }
        guard let sha = object["sha"] as? String, HubModelID.isCommitHash(sha) else {
            throw StepwiseError("\(source): the answer has no commit hash in \"sha\"")
        }
        guard let siblings = object["siblings"] as? [[String: Any]] else {
            throw StepwiseError("\(source): the answer has no \"siblings\" file list")
        }
        return HubModelInfo(commit: sha, files: Set(siblings.compactMap { $0["rfilename"] as? String }))
    }
}
