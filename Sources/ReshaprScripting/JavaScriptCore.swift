#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The JavaScriptCore C API, loaded at run time: Debian's `libjavascriptcoregtk-4.1` on Linux,
/// the system framework on macOS. Loading at run time keeps the gateway runnable (without
/// scripted tools) where the library is not installed.
struct JavaScriptCore: @unchecked Sendable {
    typealias Ref = OpaquePointer
    typealias Callback = @convention(c) (Ref?, Ref?, Ref?, Int, UnsafePointer<Ref?>?, UnsafeMutablePointer<Ref?>?) -> Ref?
    typealias ShouldTerminate = @convention(c) (Ref?, UnsafeMutableRawPointer?) -> Bool

    let contextGroupCreate: @convention(c) () -> Ref?
    let contextGroupRelease: @convention(c) (Ref?) -> Void
    let contextGroupSetExecutionTimeLimit: @convention(c) (Ref?, Double, ShouldTerminate?, UnsafeMutableRawPointer?) -> Void
    let globalContextCreateInGroup: @convention(c) (Ref?, Ref?) -> Ref?
    let globalContextRelease: @convention(c) (Ref?) -> Void
    let contextGetGlobalObject: @convention(c) (Ref?) -> Ref?
    let contextGetGlobalContext: @convention(c) (Ref?) -> Ref?
    let stringCreateWithUTF8CString: @convention(c) (UnsafePointer<CChar>?) -> Ref?
    let stringRelease: @convention(c) (Ref?) -> Void
    let stringGetMaximumUTF8CStringSize: @convention(c) (Ref?) -> Int
    let stringGetUTF8CString: @convention(c) (Ref?, UnsafeMutablePointer<CChar>?, Int) -> Int
    let evaluateScript: @convention(c) (Ref?, Ref?, Ref?, Ref?, Int32, UnsafeMutablePointer<Ref?>?) -> Ref?
    let objectMake: @convention(c) (Ref?, Ref?, UnsafeMutableRawPointer?) -> Ref?
    let objectMakeFunctionWithCallback: @convention(c) (Ref?, Ref?, Callback?) -> Ref?
    let objectSetProperty: @convention(c) (Ref?, Ref?, Ref?, Ref?, UInt32, UnsafeMutablePointer<Ref?>?) -> Void
    let valueMakeString: @convention(c) (Ref?, Ref?) -> Ref?
    let valueMakeUndefined: @convention(c) (Ref?) -> Ref?
    let valueToStringCopy: @convention(c) (Ref?, Ref?, UnsafeMutablePointer<Ref?>?) -> Ref?

    /// Where the library is looked for, in order: `$RESHAPR_JAVASCRIPTCORE_LIBRARY` alone when
    /// set (a library installed elsewhere), else the system's usual names.
    static var candidates: [String] {
        if let path = getenv("RESHAPR_JAVASCRIPTCORE_LIBRARY").map({ String(cString: $0) }), !path.isEmpty { return [path] }
        return [
            "libjavascriptcoregtk-4.1.so.0", "libjavascriptcoregtk-4.1.so", "libjavascriptcoregtk-6.0.so.1", "libjavascriptcoregtk-4.0.so.18",
            "/System/Library/Frameworks/JavaScriptCore.framework/JavaScriptCore",
        ]
    }

    /// What to install when no library is found.
    public static let installHint = "install JavaScriptCore (Debian/Ubuntu: apt-get install libjavascriptcoregtk-4.1-0)"

    /// The API of the first library found, or why none could be used.
    static let shared: Result<JavaScriptCore, ScriptEngineUnavailable> = {
        var tried: [String] = []
        for name in candidates {
            guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else {
                tried.append(name)
                continue
            }
            if let api = JavaScriptCore(handle) { return .success(api) }
            return .failure(ScriptEngineUnavailable(reason: "\(name) lacks the JavaScriptCore C API functions scripts need; \(installHint)"))
        }
        return .failure(ScriptEngineUnavailable(reason: "no JavaScript engine: none of \(tried.joined(separator: ", ")) could be loaded; \(installHint)"))
    }()

    private init?(_ handle: UnsafeMutableRawPointer) {
        func load<T>(_ name: String, as type: T.Type) -> T? {
            guard let symbol = dlsym(handle, name) else { return nil }
            return unsafeBitCast(symbol, to: type)
        }
        guard let contextGroupCreate = load("JSContextGroupCreate", as: (@convention(c) () -> Ref?).self),
            let contextGroupRelease = load("JSContextGroupRelease", as: (@convention(c) (Ref?) -> Void).self),
            let contextGroupSetExecutionTimeLimit = load(
                "JSContextGroupSetExecutionTimeLimit", as: (@convention(c) (Ref?, Double, ShouldTerminate?, UnsafeMutableRawPointer?) -> Void).self),
            let globalContextCreateInGroup = load("JSGlobalContextCreateInGroup", as: (@convention(c) (Ref?, Ref?) -> Ref?).self),
            let globalContextRelease = load("JSGlobalContextRelease", as: (@convention(c) (Ref?) -> Void).self),
            let contextGetGlobalObject = load("JSContextGetGlobalObject", as: (@convention(c) (Ref?) -> Ref?).self),
            let contextGetGlobalContext = load("JSContextGetGlobalContext", as: (@convention(c) (Ref?) -> Ref?).self),
            let stringCreateWithUTF8CString = load("JSStringCreateWithUTF8CString", as: (@convention(c) (UnsafePointer<CChar>?) -> Ref?).self),
            let stringRelease = load("JSStringRelease", as: (@convention(c) (Ref?) -> Void).self),
            let stringGetMaximumUTF8CStringSize = load("JSStringGetMaximumUTF8CStringSize", as: (@convention(c) (Ref?) -> Int).self),
            let stringGetUTF8CString = load("JSStringGetUTF8CString", as: (@convention(c) (Ref?, UnsafeMutablePointer<CChar>?, Int) -> Int).self),
            let evaluateScript = load("JSEvaluateScript", as: (@convention(c) (Ref?, Ref?, Ref?, Ref?, Int32, UnsafeMutablePointer<Ref?>?) -> Ref?).self),
            let objectMake = load("JSObjectMake", as: (@convention(c) (Ref?, Ref?, UnsafeMutableRawPointer?) -> Ref?).self),
            let objectMakeFunctionWithCallback = load("JSObjectMakeFunctionWithCallback", as: (@convention(c) (Ref?, Ref?, Callback?) -> Ref?).self),
            let objectSetProperty = load("JSObjectSetProperty", as: (@convention(c) (Ref?, Ref?, Ref?, Ref?, UInt32, UnsafeMutablePointer<Ref?>?) -> Void).self),
            let valueMakeString = load("JSValueMakeString", as: (@convention(c) (Ref?, Ref?) -> Ref?).self),
            let valueMakeUndefined = load("JSValueMakeUndefined", as: (@convention(c) (Ref?) -> Ref?).self),
            let valueToStringCopy = load("JSValueToStringCopy", as: (@convention(c) (Ref?, Ref?, UnsafeMutablePointer<Ref?>?) -> Ref?).self)
        else { return nil }
        self.contextGroupCreate = contextGroupCreate
        self.contextGroupRelease = contextGroupRelease
        self.contextGroupSetExecutionTimeLimit = contextGroupSetExecutionTimeLimit
        self.globalContextCreateInGroup = globalContextCreateInGroup
        self.globalContextRelease = globalContextRelease
        self.contextGetGlobalObject = contextGetGlobalObject
        self.contextGetGlobalContext = contextGetGlobalContext
        self.stringCreateWithUTF8CString = stringCreateWithUTF8CString
        self.stringRelease = stringRelease
        self.stringGetMaximumUTF8CStringSize = stringGetMaximumUTF8CStringSize
        self.stringGetUTF8CString = stringGetUTF8CString
        self.evaluateScript = evaluateScript
        self.objectMake = objectMake
        self.objectMakeFunctionWithCallback = objectMakeFunctionWithCallback
        self.objectSetProperty = objectSetProperty
        self.valueMakeString = valueMakeString
        self.valueMakeUndefined = valueMakeUndefined
        self.valueToStringCopy = valueToStringCopy
    }

    /// A JSString of `text`; release it with ``stringRelease``.
    func string(_ text: String) -> Ref? {
        text.withCString { stringCreateWithUTF8CString($0) }
    }

    /// The text of a JSString.
    func text(_ string: Ref?) -> String {
        let size = stringGetMaximumUTF8CStringSize(string)
        guard size > 0 else { return "" }
        var buffer = [CChar](repeating: 0, count: size)
        let written = stringGetUTF8CString(string, &buffer, size)
        return String(decoding: buffer.prefix(max(0, written - 1)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The text of any JS value (`String(value)` in JavaScript).
    func text(of value: Ref?, in context: Ref?) -> String {
        let string = valueToStringCopy(context, value, nil)
        defer { if string != nil { stringRelease(string) } }
        return string == nil ? "" : text(string)
    }
}

/// Why scripted tools cannot run here.
public struct ScriptEngineUnavailable: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}
