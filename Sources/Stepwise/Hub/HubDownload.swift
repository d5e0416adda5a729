import Foundation

/// Downloads a model's student files into the Hugging Face cache layout.
struct HubDownload {
    let id: HubModelID
    let location: HubCacheLocation
    let environment: [String: String]
    let progress: (@Sendable (String) -> Void)?

    func run() async throws -> HubSnapshot {
        throw StepwiseError("\(id) is not in the Hugging Face cache at \(location.root.path), and downloading is not built yet")
    }
}
