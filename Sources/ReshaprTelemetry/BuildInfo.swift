/// What every reShapr binary says about itself (`--version`, `/status`).
public enum BuildInfo {
    public static let version = "0.1.0"
}
