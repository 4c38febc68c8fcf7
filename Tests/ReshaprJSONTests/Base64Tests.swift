import ReshaprJSON
import Testing

@Suite struct Base64Tests {
    @Test func alphabetsWhitespaceAndLength() {
        #expect(Base64.decode("AQID") == [1, 2, 3])
        #expect(Base64.decode("AQ==") == [1])
        #expect(Base64.decode("AQ") == [1], "padding is optional")
        #expect(Base64.decode("-_8") == nil, "base64url only when asked")
        #expect(Base64.decode("-_8", alphabet: .standardOrURL) == [0xFB, 0xFF])
        #expect(Base64.decode("AQ ID") == nil)
        #expect(Base64.decode("AQ\nID", ignoringWhitespace: true) == [1, 2, 3])
        #expect(Base64.decode("A") == nil, "one digit past a group is not a byte")
        #expect(Base64.decode("AQ=D") == nil)
        #expect(Base64.decode("AQ===") == nil)
    }
}
