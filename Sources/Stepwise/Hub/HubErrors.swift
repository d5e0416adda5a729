import Foundation

/// The hub's refusals, as messages that say what to do.
enum HubErrors {
    /// The error for a final (not retried) non-success answer to a request about `id`;
    /// `what` names the request ("the file list", "config.json").
    static func refusal(_ response: HTTPResponse, url: URL, id: HubModelID, what: String, endpoint: HubEndpoint) -> StepwiseError {
        // The hub says which kind of "not found" in X-Error-Code (RepoNotFound,
        // RevisionNotFound, EntryNotFound, GatedRepo) and explains in X-Error-Message.
        let code = response.value(forHeader: "X-Error-Code")
        let detail = response.value(forHeader: "X-Error-Message").map { " (\($0))" } ?? ""
        let token = endpoint.tokenSource.map { "the token from \($0) was sent and refused, or lacks access" }
            ?? "no token was sent: set HF_TOKEN to a token that can read it (\(endpoint.url.absoluteString)/settings/tokens)"
        switch response.status {
        case 401:
            return StepwiseError("""
                the hub refused \(what) of \(id.repo) (401\(code.map { " \($0)" } ?? "")\(detail)): the repository is private \
                or gated, or does not exist; \(token)
                """)
        case 403:
            return StepwiseError("""
                the hub refused \(what) of \(id.repo) (403\(code.map { " \($0)" } ?? "")\(detail)): access is not granted — \
                for a gated model, accept its conditions on \(endpoint.url.absoluteString)/\(id.repo) with the account \
                whose token is in HF_TOKEN; \(token)
                """)
        case 404:
            let which: String
            switch code {
            case "RepoNotFound": which = "no repository \(id.repo)"
            case "RevisionNotFound": which = "\(id.repo) has no revision \(id.revision)"
            case "EntryNotFound": which = "\(id.repo) has no file \(what) at that revision"
            default: which = "\(id.repo)@\(id.revision): no such repository, revision or file (\(what))"
            }
            return StepwiseError("the hub has \(which) (404 for \(url.absoluteString))\(detail)")
        default:
            return StepwiseError("the hub answered \(response.status) for \(what) of \(id) (\(url.absoluteString))\(detail)")
        }
    }
}
