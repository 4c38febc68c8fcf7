import Foundation
import ReshaprJSON
import Synchronization

/// What a script may call: the gateway's tools, through their normal path.
public protocol ScriptHost: Sendable {
    /// Calls `tool` (of `service` `"<name>:<version>"`, or of the script's own Service when nil)
    /// and answers `{ok, content, error}`.
    func callTool(service: String?, tool: String, arguments: JSONValue) async -> JSONValue
}

/// What `rs.callTool` answers a script: `{ok, content, error}`.
public enum ScriptCallAnswer {
    public static func success(_ content: JSONValue) -> JSONValue { ["ok": true, "content": content, "error": nil] }
    public static func failure(_ message: String) -> JSONValue { ["ok": false, "content": nil, "error": .string(message)] }
}

/// How a script run ended.
public enum ScriptOutcome: Sendable, Equatable {
    /// The script returned this value (`null` for nothing).
    case returned(JSONValue)
    /// The script called `rs.fail(message, data)`.
    case failed(message: String, data: JSONValue)
    /// The script threw, or did not compile.
    case threw(String)
    /// The script ran past its time limit and was stopped.
    case timedOut
}

/// Limits of one script run.
public struct ScriptLimits: Sendable {
    public var timeout: Duration
    /// Tool calls one run may make (`rs.callTool` and `rs.callToolAsync` together).
    public var maxToolCalls: Int

    public init(timeout: Duration = .seconds(10), maxToolCalls: Int = 50) {
        self.timeout = timeout
        self.maxToolCalls = maxToolCalls
    }
}

/// Runs scripted tools in JavaScriptCore, each run on a thread of its own with a fresh context,
/// so that a script sees nothing of another and a blocked script blocks no task of the gateway.
/// `rs.callTool` blocks the script's thread while the call runs as a Swift task;
/// `rs.callToolAsync` starts the call at once and `rs.awaitPromises` waits for the results.
public enum ScriptRunner {
    /// Whether scripts can run here; the error says what to install.
    public static var availability: Result<Void, ScriptEngineUnavailable> {
        JavaScriptCore.shared.map { _ in () }
    }

    /// Script threads alive now, and the most there may be.
    static let liveThreads = Atomic<Int>(0)
    static let maxThreads = 64

    public static func run(_ script: String, input: JSONValue, host: any ScriptHost, limits: ScriptLimits) async -> ScriptOutcome {
        let api: JavaScriptCore
        switch JavaScriptCore.shared {
        case .success(let loaded): api = loaded
        case .failure(let error): return .threw(error.reason)
        }
        // A script answered at its deadline may still hold its thread for a while: their number is bounded.
        guard liveThreads.wrappingAdd(1, ordering: .relaxed).newValue <= maxThreads else {
            liveThreads.wrappingSubtract(1, ordering: .relaxed)
            return .threw("the gateway is already running \(maxThreads) scripts, its limit; call again in a moment")
        }
        let run = ScriptRun(api: api, host: host, limits: limits, input: input.serialized())
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<ScriptOutcome, Never>) in
                let answer = AnswerOnce(continuation)
                let thread = Thread {
                    answer.resume(run.execute(script))
                    liveThreads.wrappingSubtract(1, ordering: .relaxed)
                }
                // JavaScriptCore wants a deep stack; the default of secondary threads is small.
                thread.stackSize = 8 << 20
                thread.start()
                // The engine's limit counts the thread's CPU time, which a loaded machine hands
                // out slowly: the caller is answered at the wall-clock deadline all the same, and
                // the thread, which may call no tool any more, ends at the engine's limit.
                let nanoseconds = limits.timeout.components.seconds &* 1_000_000_000 &+ limits.timeout.components.attoseconds / 1_000_000_000
                DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(clamping: nanoseconds))) {
                    run.cancel()
                    answer.resume(.timedOut)
                }
            }
        } onCancel: {
            run.cancel()
        }
    }
}

/// Resumes a continuation with the first answer it is given, and ignores the others.
final class AnswerOnce: Sendable {
    private let continuation: Mutex<CheckedContinuation<ScriptOutcome, Never>?>

    init(_ continuation: CheckedContinuation<ScriptOutcome, Never>) {
        self.continuation = Mutex(continuation)
    }

    func resume(_ outcome: ScriptOutcome) {
        let waiting = continuation.withLock { continuation in
            defer { continuation = nil }
            return continuation
        }
        waiting?.resume(returning: outcome)
    }
}

/// The state of one run, shared by the script's thread and the tasks of its tool calls.
final class ScriptRun: Sendable {
    let api: JavaScriptCore
    let host: any ScriptHost
    let limits: ScriptLimits
    let input: String
    let deadline: ContinuousClock.Instant
    private let state = Mutex(State())

    struct State {
        var calls = 0
        var pending: [Int: Task<JSONValue, Never>] = [:]
        var failure: (message: String, data: JSONValue)?
        var cancelled = false
    }

    /// Runs by global context, for the C callbacks, which cannot capture anything.
    static let registry = Mutex<[UInt: ScriptRun]>([:])

    init(api: JavaScriptCore, host: any ScriptHost, limits: ScriptLimits, input: String) {
        self.api = api
        self.host = host
        self.limits = limits
        self.input = input
        deadline = ContinuousClock.now + limits.timeout
    }

    static func find(_ context: OpaquePointer?) -> ScriptRun? {
        guard let api = try? JavaScriptCore.shared.get(), let global = api.contextGetGlobalContext(context) else { return nil }
        let key = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(global)))
        return registry.withLock { $0[key] }
    }

    func cancel() {
        let pending = state.withLock { state in
            state.cancelled = true
            return Array(state.pending.values)
        }
        for task in pending { task.cancel() }
    }

    /// Runs the script on the calling thread (never a task's), and releases the engine.
    func execute(_ script: String) -> ScriptOutcome {
        let group = api.contextGroupCreate()
        defer { api.contextGroupRelease(group) }
        let seconds = Double(limits.timeout.components.seconds) + Double(limits.timeout.components.attoseconds) / 1e18
        api.contextGroupSetExecutionTimeLimit(group, seconds, { _, _ in true }, nil)
        guard let context = api.globalContextCreateInGroup(group, nil) else { return .threw("the JavaScript engine could not create a context") }
        defer { api.globalContextRelease(context) }
        let key = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(context)))
        Self.registry.withLock { $0[key] = self }
        defer {
            Self.registry.withLock { $0[key] = nil }
            cancel()
        }

        let global = api.contextGetGlobalObject(context)
        let native = api.objectMake(context, nil, nil)
        for (name, callback) in [("call", nativeCall), ("start", nativeStart), ("wait", nativeWait), ("fail", nativeFail), ("input", nativeInput)] {
            let jsName = api.string(name)
            api.objectSetProperty(context, native, jsName, api.objectMakeFunctionWithCallback(context, jsName, callback), 0, nil)
            api.stringRelease(jsName)
        }
        let nativeName = api.string("__reshaprNative")
        api.objectSetProperty(context, global, nativeName, native, 0, nil)
        api.stringRelease(nativeName)

        let source = Self.prelude + "JSON.stringify((function (input) {\n" + script + "\n}).call(undefined, JSON.parse(__reshaprInput)));"
        let sourceString = api.string(source)
        defer { api.stringRelease(sourceString) }
        let sourceURL = api.string("custom-tool.js")
        defer { api.stringRelease(sourceURL) }
        var exception: OpaquePointer?
        let value = api.evaluateScript(context, sourceString, nil, sourceURL, 1, &exception)
        let failure = state.withLock { $0.failure }
        if let failure { return .failed(message: failure.message, data: failure.data) }
        if exception != nil {
            if ContinuousClock.now >= deadline { return .timedOut }
            return .threw(api.text(of: exception, in: context))
        }
        guard let value else { return .returned(.null) }
        let text = api.text(of: value, in: context)
        if text == "undefined" { return .returned(.null) }
        return .returned((try? JSONParser.parse(text)) ?? .string(text))
    }

    /// `rs`, built over the native functions, which take and answer JSON text.
    static let prelude = """
        var __reshaprInput = __reshaprNative.input();
        var rs = (function (native) {
          function encode(args) {
            if (args.length >= 3) return JSON.stringify([String(args[0]), String(args[1]), args[2] === undefined ? {} : args[2]]);
            return JSON.stringify([null, String(args[0]), args[1] === undefined ? {} : args[1]]);
          }
          return Object.freeze({
            callTool: function () { return JSON.parse(native.call(encode(arguments))); },
            callToolAsync: function () { return Object.freeze({ __reshaprCall: native.start(encode(arguments)) }); },
            awaitPromises: function (list) {
              return Array.prototype.map.call(list, function (p) {
                return p && p.__reshaprCall !== undefined ? JSON.parse(native.wait(String(p.__reshaprCall))) : p;
              });
            },
            fail: function (message, data) {
              native.fail(JSON.stringify({ message: String(message), data: data === undefined ? null : data }));
              throw new Error(String(message));
            }
          });
        })(__reshaprNative);
        delete this.__reshaprNative;

        """

    /// Starts one call of a `[service, tool, params]` request, counted against the run's budget.
    func start(_ request: String) -> Task<JSONValue, Never>? {
        guard case .array(let parts)? = try? JSONParser.parse(request), parts.count == 3, let tool = parts[1].stringValue else { return nil }
        let service = parts[0].stringValue
        let allowed = state.withLock { state -> Bool in
            guard !state.cancelled, state.calls < limits.maxToolCalls else { return false }
            state.calls += 1
            return true
        }
        guard allowed else {
            let message = "this run has made its \(limits.maxToolCalls) tool calls (the limit), or was stopped"
            return Task { ScriptCallAnswer.failure(message) }
        }
        let host = self.host
        let arguments = parts[2]
        return Task { await host.callTool(service: service, tool: tool, arguments: arguments) }
    }

    /// Waits for a call on the script's thread, at most until the run's deadline.
    func wait(_ task: Task<JSONValue, Never>) -> JSONValue {
        let box = Mutex<JSONValue?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let value = await task.value
            box.withLock { $0 = value }
            done.signal()
        }
        let now = ContinuousClock.now
        let left = deadline > now ? now.duration(to: deadline) : .zero
        let nanoseconds = left.components.seconds * 1_000_000_000 + left.components.attoseconds / 1_000_000_000
        guard done.wait(timeout: .now() + .nanoseconds(Int(clamping: nanoseconds))) == .success else {
            task.cancel()
            return ScriptCallAnswer.failure("the script ran out of time waiting for this call")
        }
        return box.withLock { $0 } ?? ScriptCallAnswer.failure("the call ended without an answer")
    }

    func register(_ task: Task<JSONValue, Never>) -> Int {
        state.withLock { state in
            let id = state.pending.count + 1
            state.pending[id] = task
            return id
        }
    }

    func pending(_ id: Int) -> Task<JSONValue, Never>? {
        state.withLock { $0.pending[id] }
    }

    func fail(_ text: String) {
        let parsed = (try? JSONParser.parse(text)) ?? .null
        state.withLock { $0.failure = (parsed["message"]?.stringValue ?? "the script failed", parsed["data"] ?? .null) }
    }

    /// A JS string of `text`.
    func jsString(_ text: String, _ context: OpaquePointer?) -> OpaquePointer? {
        let string = api.string(text)
        defer { api.stringRelease(string) }
        return api.valueMakeString(context, string)
    }

    func argument(_ count: Int, _ arguments: UnsafePointer<OpaquePointer?>?, _ context: OpaquePointer?) -> String {
        guard count > 0, let arguments else { return "" }
        return api.text(of: arguments[0], in: context)
    }
}

private let nativeCall: JavaScriptCore.Callback = { context, _, _, count, arguments, _ in
    guard let run = ScriptRun.find(context) else { return nil }
    let request = run.argument(count, arguments, context)
    let answer = run.start(request).map { run.wait($0) } ?? ScriptCallAnswer.failure("rs.callTool takes (tool, params) or (service, tool, params)")
    return run.jsString(answer.serialized(), context)
}

private let nativeStart: JavaScriptCore.Callback = { context, _, _, count, arguments, _ in
    guard let run = ScriptRun.find(context) else { return nil }
    let request = run.argument(count, arguments, context)
    let task = run.start(request) ?? Task { ScriptCallAnswer.failure("rs.callToolAsync takes (tool, params) or (service, tool, params)") }
    return run.jsString(String(run.register(task)), context)
}

private let nativeWait: JavaScriptCore.Callback = { context, _, _, count, arguments, _ in
    guard let run = ScriptRun.find(context) else { return nil }
    let id = Int(run.argument(count, arguments, context)) ?? 0
    let answer = run.pending(id).map { run.wait($0) } ?? ScriptCallAnswer.failure("not a call started by rs.callToolAsync")
    return run.jsString(answer.serialized(), context)
}

private let nativeFail: JavaScriptCore.Callback = { context, _, _, count, arguments, _ in
    guard let run = ScriptRun.find(context) else { return nil }
    run.fail(run.argument(count, arguments, context))
    return run.api.valueMakeUndefined(context)
}

private let nativeInput: JavaScriptCore.Callback = { context, _, _, _, _, _ in
    guard let run = ScriptRun.find(context) else { return nil }
    return run.jsString(run.input, context)
}
