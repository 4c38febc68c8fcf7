import CZlib

/// The files of a .zip archive, stored or deflated, for `reshapr import -f spec.zip`. Refuses
/// what could hurt the machine it is opened on: entries that climb out of the folder (`../`,
/// absolute), encrypted or ZIP64 archives, and more than `maxBytes` once inflated.
enum ZipArchive {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func entries(_ bytes: [UInt8], maxBytes: Int = 64 << 20, maxEntries: Int = 4_000) throws(Failure) -> [(path: String, content: [UInt8])] {
        let reader = Reader(bytes: bytes)
        // The end of central directory record: 22 bytes, then a comment of up to 64 KiB.
        let lowest = max(0, bytes.count - 22 - 0xFFFF)
        var end = bytes.count - 22
        while end >= lowest, reader.u32(end) != 0x0605_4b50 { end -= 1 }
        guard end >= lowest, let count = reader.u16(end + 10), let directoryOffset = reader.u32(end + 16) else {
            throw Failure(description: "not a zip archive (no end of central directory)")
        }
        guard count != 0xFFFF, directoryOffset != 0xFFFF_FFFF else { throw Failure(description: "ZIP64 archives are not supported; zip fewer or smaller files") }
        guard Int(count) <= maxEntries else { throw Failure(description: "more than \(maxEntries) entries") }
        var result: [(String, [UInt8])] = []
        var offset = Int(directoryOffset)
        var total = 0
        for _ in 0..<Int(count) {
            guard reader.u32(offset) == 0x0201_4b50, let flags = reader.u16(offset + 8), let method = reader.u16(offset + 10),
                let compressed = reader.u32(offset + 20), let size = reader.u32(offset + 24), let nameLength = reader.u16(offset + 28),
                let extraLength = reader.u16(offset + 30), let commentLength = reader.u16(offset + 32), let local = reader.u32(offset + 42),
                let nameBytes = reader.slice(offset + 46, Int(nameLength))
            else { throw Failure(description: "the central directory is truncated or damaged") }
            offset += 46 + Int(nameLength) + Int(extraLength) + Int(commentLength)
            let name = String(decoding: nameBytes, as: UTF8.self)
            if name.hasSuffix("/") { continue }
            guard !name.hasPrefix("/"), !name.contains("\\"), !name.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }) else {
                throw Failure(description: "entry \(name) would be written outside the folder")
            }
            guard flags & 1 == 0 else { throw Failure(description: "entry \(name) is encrypted") }
            total += Int(size)
            guard total <= maxBytes else { throw Failure(description: "the archive inflates to more than \(maxBytes >> 20) MiB") }
            guard reader.u32(Int(local)) == 0x0403_4b50, let localName = reader.u16(Int(local) + 26), let localExtra = reader.u16(Int(local) + 28),
                let data = reader.slice(Int(local) + 30 + Int(localName) + Int(localExtra), Int(compressed))
            else { throw Failure(description: "entry \(name) is truncated") }
            switch method {
            case 0:
                guard compressed == size else { throw Failure(description: "entry \(name) is damaged") }
                result.append((name, Array(data)))
            case 8:
                result.append((name, try inflate(data, size: Int(size), name: name)))
            default:
                throw Failure(description: "entry \(name) uses compression method \(method); only stored and deflated entries are read")
            }
        }
        return result
    }

    /// Raw deflate data that must inflate to exactly `size` bytes.
    static func inflate(_ data: ArraySlice<UInt8>, size: Int, name: String) throws(Failure) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: max(size, 1))
        var input = Array(data)
        var stream = z_stream()
        guard inflateInit2_(&stream, -MAX_WBITS, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw Failure(description: "cannot start inflating \(name)")
        }
        defer { inflateEnd(&stream) }
        let status = input.withUnsafeMutableBufferPointer { inputBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer in
                stream.next_in = inputBuffer.baseAddress
                stream.avail_in = UInt32(inputBuffer.count)
                stream.next_out = outputBuffer.baseAddress
                stream.avail_out = UInt32(outputBuffer.count)
                return CZlib.inflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END, Int(stream.total_out) == size else { throw Failure(description: "entry \(name) is damaged (it does not inflate to its size)") }
        return size == 0 ? [] : output
    }

    /// Little-endian fields read with bounds checks: a short or lying archive is an error, not a trap.
    struct Reader {
        let bytes: [UInt8]

        func u16(_ offset: Int) -> UInt16? {
            guard offset >= 0, offset + 2 <= bytes.count else { return nil }
            return UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
        }

        func u32(_ offset: Int) -> UInt32? {
            guard let low = u16(offset), let high = u16(offset + 2) else { return nil }
            return UInt32(low) | UInt32(high) << 16
        }

        func slice(_ offset: Int, _ count: Int) -> ArraySlice<UInt8>? {
            guard offset >= 0, count >= 0, offset <= bytes.count - count else { return nil }
            return bytes[offset..<offset + count]
        }
    }
}
