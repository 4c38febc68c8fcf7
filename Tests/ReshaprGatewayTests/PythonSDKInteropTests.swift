import Foundation
import Hummingbird
import HummingbirdTesting
import ReshaprGateway
import ReshaprJSON
import TestSupport
import Testing

/// The official Python MCP SDK (`pip install mcp`) as an outside client of the gateway.
/// CI installs it and sets RESHAPR_REQUIRE_PYTHON_MCP=1, which turns a missing SDK into a failure.
enum PythonMCP {
    static let required = ProcessInfo.processInfo.environment["RESHAPR_REQUIRE_PYTHON_MCP"] == "1"

    static let available = Python.canImport("mcp.client.streamable_http")

    static let script = Repository.root + "/Tests/Interop/mcp_client_check.py"
}

@Suite(.enabled(if: PythonMCP.available || PythonMCP.required, "the Python MCP SDK is not installed (pip install mcp)"))
struct PythonSDKInteropTests {
    /// Runs `Tests/Interop/mcp_client_check.py` with the scenario `scenario(directory)` against
    /// `path` of a gateway on `configuration` (the pets API of ``ToolCallTests`` behind a real
    /// backend); `check` gets the client's report and the gateway.
    func runClient(
        router: Router<BasicRequestContext> = ToolCallTests.Backend().router(),
        configuration: @Sendable (Int) throws -> TemporaryDirectory = ToolCallTests.configuration, path: String,
        scenario: @Sendable (TemporaryDirectory) throws -> JSONValue, check: @Sendable (JSONValue, Gateway) async throws -> Void
    ) async throws {
        #expect(PythonMCP.available, "RESHAPR_REQUIRE_PYTHON_MCP=1 but python3 cannot import mcp")
        try await withServer(router) { backendPort in
            let dir = try configuration(backendPort)
            defer { dir.remove() }
            try await withRunningGateway(configDirectory: dir.path) { client, gateway in
                let port = try await client.getChannel().remoteAddress?.port ?? 0
                try dir.write("scenario.json", try scenario(dir).serialized())
                let result = try await ChildProcess.run(
                    "/usr/bin/env", ["python3", PythonMCP.script, "http://127.0.0.1:\(port)" + path, dir.path + "/scenario.json"])
                #expect(result.status == 0, "\(result.stderr)")
                try await check(try JSONParser.parse(result.stdout), gateway)
            }
        }
    }

    @Test func initializeListAndCallThroughTheOfficialClient() async throws {
        let scenario: JSONValue = [
            ["tool": "getPet", "arguments": ["petId": 7, "q": ["x"]]],
            ["tool": "missing"],
            ["tool": "getPet", "arguments": ["petId": "seven"]],
        ]
        try await runClient(path: "/mcp/open", scenario: { _ in scenario }) { report, _ in
            #expect(["2025-11-25", "2025-06-18", "2025-03-26"].contains(report["protocolVersion"]?.stringValue ?? ""))
            #expect(report["serverName"] == "reshapr-pets")
            #expect(report["tools"] == ["addPet", "drift", "getPet", "image", "missing", "secure", "slow"])
            let calls = report["calls"]?.arrayValue ?? []
            #expect(calls.count == 3)
            #expect(calls[safe: 0]?["isError"] == false)
            #expect(calls[safe: 0]?["structured"]?["id"] == 7)
            #expect(calls[safe: 0]?["structured"]?["seen"]?["query"] == "q=x")
            #expect(calls[safe: 1]?["isError"] == true)
            #expect(calls[safe: 1]?["text"] == "The backend answered 404 Not Found: no such pet")
            #expect(calls[safe: 2]?["isError"] == true)
            #expect(calls[safe: 2]?["text"]?.stringValue?.contains("petId: expected integer") == true)
        }
    }

    /// The SDK's default mode probes server/discover and stays on 2026-07-28: lists and calls
    /// (mirroring the header parameter into Mcp-Param-X-Trace), then hears a tools list change
    /// on subscriptions/listen after an edit of the directory.
    @Test func theDefaultAutoModeSpeaksTheCurrentRevisionAndHearsListChanges() async throws {
        let openPlan = "metadata: {name: open}\nspec:\n  service: {name: pets, version: '1'}\n"
        let scenario: @Sendable (TemporaryDirectory) throws -> JSONValue = { dir in
            let original = try String(contentsOfFile: dir.path + "/all.yaml", encoding: .utf8)
            #expect(original.contains(openPlan))
            let edited = original.replacingOccurrences(of: openPlan, with: openPlan + "  tools: {exclude: [slow, drift]}\n")
            return [
                "mode": "auto",
                "calls": [
                    ["tool": "getPet", "arguments": ["petId": 7, "X-Trace": "from-python"]],
                    ["tool": "getPet", "arguments": ["petId": "seven"]],
                ],
                "edit": ["path": .string(dir.path + "/all.yaml"), "content": .string(edited)],
            ]
        }
        try await runClient(path: "/mcp/open", scenario: scenario) { report, gateway in
            #expect(report["protocolVersion"] == "2026-07-28")
            #expect(report["serverName"] == "reshapr-pets")
            #expect(report["tools"] == ["addPet", "drift", "getPet", "image", "missing", "secure", "slow"])
            let calls = report["calls"]?.arrayValue ?? []
            #expect(calls[safe: 0]?["isError"] == false, "\(calls)")
            #expect(calls[safe: 0]?["structured"]?["seen"]?["trace"] == "from-python")
            #expect(calls[safe: 1]?["isError"] == true)
            #expect(report["honored"] == true)
            #expect(report["listChanged"] == true, "\(report)")
            #expect(report["event"] == "ToolsListChanged", "\(report)")
            #expect(report["toolsAfterEdit"] == ["addPet", "getPet", "image", "missing", "secure"])
            // Nothing was kept for the modern client: no session, and its subscription ended
            // when its connection closed.
            #expect(gateway.sessions.count == 0)
            let subscriptionsGone = try await eventually { gateway.subscriptions.count == 0 }
            #expect(subscriptionsGone)
        }
    }

    /// The same SDK pinned to the handshake still gets a legacy session, on the same URL.
    @Test func legacyModeStillNegotiatesASession() async throws {
        let scenario: JSONValue = ["mode": "legacy", "calls": [["tool": "getPet", "arguments": ["petId": 3]]]]
        try await runClient(path: "/mcp/open", scenario: { _ in scenario }) { report, _ in
            #expect(report["protocolVersion"] == "2025-11-25")
            #expect(report["calls"]?[0]?["structured"]?["id"] == 3)
        }
    }

    /// Filtered answers and a custom tool's, checked by the SDK against the `outputSchema` the
    /// gateway derived from the filter (the SDK refuses structured content that breaks it).
    @Test func theSDKAcceptsFilteredAnswersAgainstTheirDerivedSchemas() async throws {
        let scenario: JSONValue = [
            "mode": "auto",
            "calls": [["tool": "getPetById", "arguments": ["petId": 5]], ["tool": "petName", "arguments": ["id": 6]]],
        ]
        try await runClient(configuration: { try ReshapingTests.configuration(backendPort: $0) }, path: "/mcp/originals", scenario: { _ in scenario }) { report, _ in
            #expect(report["protocolVersion"] == "2026-07-28")
            let calls = report["calls"]?.arrayValue ?? []
            // The backend's pet has no category: the move and the remove find nothing and are passed over.
            #expect(calls[safe: 0]?["structured"] == ["name": "rex", "source": "reshapr"], "\(report)")
            #expect(calls[safe: 1]?["structured"] == ["name": "rex", "source": "reshapr"], "\(report)")
        }
    }

    /// A backend that takes each user's own key: the SDK's elicitation callback answers the
    /// gateway's request for it, through an InputRequiredResult (auto mode, 2026-07-28) and
    /// through a server-initiated elicitation/create (legacy mode), which the session remembers.
    @Test(arguments: ["auto", "legacy"])
    func theUsersOwnCredentialIsAskedThroughTheClient(mode: String) async throws {
        let scenario: JSONValue = [
            "mode": .string(mode), "elicit": .string("key-of-\(mode)"),
            "calls": [["tool": "getPet", "arguments": ["petId": 1]], ["tool": "getPet", "arguments": ["petId": 2]]],
        ]
        try await runClient(configuration: ModernProtocolTests.configuration, path: "/mcp/mine", scenario: { _ in scenario }) { report, _ in
            #expect(report["protocolVersion"] == (mode == "auto" ? "2026-07-28" : "2025-11-25"))
            let calls = report["calls"]?.arrayValue ?? []
            #expect(calls.count == 2)
            for call in calls {
                #expect(call["isError"] == false, "\(call)")
                #expect(call["structured"]?["seen"]?["apiKey"] == .string("key-of-\(mode)"))
            }
            // Modern requests carry no state: each call asks. A legacy session asks once.
            #expect(report["asked"] == .array(Array(repeating: "Your pets API key", count: mode == "auto" ? 2 : 1)))
        }
    }

    /// Prompts and resources through the SDK in both eras: a prompt with arguments, a static
    /// text resource and a blob, the templates and a templated read from a real backend that
    /// checks the plan's bearer token; then each list_changed after an edit of the directory
    /// (subscriptions/listen in auto mode, the session's GET stream in legacy mode).
    @Test(arguments: ["auto", "legacy"])
    func promptsAndResourcesThroughTheOfficialClient(mode: String) async throws {
        let reads = ["file:///docs/guide.md", "file:///docs/logo.png", "file:///project/src/doc.md?mode=raw"]
        let scenario: @Sendable (TemporaryDirectory) throws -> JSONValue = { dir in
            [
                "mode": .string(mode),
                "catalog": [
                    "prompt": ["name": "review", "arguments": ["petId": "7", "tone": "warm"]],
                    "reads": .array(reads.map { .string($0) }),
                    "edits": [
                        [
                            "path": .string(dir.path + "/prompts.yaml"),
                            "content": .string(PromptsAndResourcesTests.prompts + "\n  added:\n    result: A new prompt.\n"),
                        ],
                        [
                            "path": .string(dir.path + "/resources.yaml"),
                            "content": .string(PromptsAndResourcesTests.resources.replacingOccurrences(of: "'# Guide'", with: "'# Guide, second edition'")),
                        ],
                    ],
                ],
            ]
        }
        let backend = PromptsAndResourcesTests.Backend()
        try await runClient(router: backend.router(), configuration: PromptsAndResourcesTests.configuration, path: "/mcp/full", scenario: scenario) { report, _ in
            #expect(report["protocolVersion"] == (mode == "auto" ? "2026-07-28" : "2025-11-25"))
            let catalog = report["catalog"]
            #expect(catalog?["prompts"] == ["hello", "review"], "\(report)")
            #expect(catalog?["promptMessages"] == [["role": "user", "text": "Review pet 7 in a warm tone. ${unknown} stays."]])
            #expect(catalog?["resources"] == ["file:///docs/guide.md", "file:///docs/logo.png"])
            #expect(catalog?["templates"] == ["file:///images/{name}.png", "file:///project/src/{path}?mode=raw"])
            #expect(catalog?["reads"]?[0]?[0]?["text"] == "# Guide")
            #expect(catalog?["reads"]?[1]?[0]?["blob"] == "iVBORw0K")
            #expect(catalog?["reads"]?[1]?[0]?["mimeType"] == "image/png")
            #expect(catalog?["reads"]?[2]?[0]?["text"] == "contents of doc.md, mode raw", "\(report)")
            // The SDK names the events of a subscription and of a session's stream differently.
            let events: JSONValue =
                mode == "auto" ? ["PromptsListChanged", "ResourcesListChanged"] : ["PromptListChangedNotification", "ResourceListChangedNotification"]
            #expect(catalog?["events"] == events, "\(report)")
            #expect(catalog?["promptsAfterEdits"] == ["added", "hello", "review"])
            if mode == "auto" { #expect(catalog?["honored"] == [true, true]) }
        }
        #expect(backend.log.uris.withLock { $0 } == ["/api/project/src/doc.md?mode=raw"])
    }
}

extension Array {
    subscript(safe index: Int) -> Element? {
        indices.contains(index) ? self[index] : nil
    }
}
