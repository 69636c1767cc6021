import Foundation

/// A file mapped read-only into memory for the lifetime of this object.
///
/// Model weights are used in place from the mapping: pages are read on first touch and shared
/// with the page cache, so a 1 GB model costs no copy and no allocation.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let count: Int
    public let base: UnsafeRawPointer

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw MappedFileError.cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw MappedFileError.cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw MappedFileError.notAFile(path: path) }
        count = Int(st.st_size)
        if count == 0 {
            // mmap of length 0 fails; an empty file still gets a valid (never dereferenced) pointer.
            base = UnsafeRawPointer(UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 64))
            return
        }
        guard let p = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw MappedFileError.cannotMap(path: path, reason: String(cString: strerror(errno)))
        }
        base = UnsafeRawPointer(p)
    }

    deinit {
        if count > 0 { munmap(UnsafeMutableRawPointer(mutating: base), count) }
        else { UnsafeMutableRawPointer(mutating: base).deallocate() }
    }

    /// The bytes in `range`, or nil when the range does not lie inside the file.
    public func bytes(_ offset: Int, _ length: Int) -> UnsafeRawBufferPointer? {
        guard offset >= 0, length >= 0, offset <= count, length <= count - offset else { return nil }
        return UnsafeRawBufferPointer(start: base + offset, count: length)
    }
}

public enum MappedFileError: Error, LocalizedError {
    /// The file could not be opened (missing, no permission).
    case cannotOpen(path: String, reason: String)
    /// The path is a directory or a device.
    case notAFile(path: String)
    /// mmap failed (out of address space, or a file system that cannot map).
    case cannotMap(path: String, reason: String)

    public var errorDescription: String? {
        switch self {
        case .cannotOpen(let p, let r): "cannot open \(p): \(r) — check the path and permissions"
        case .notAFile(let p): "\(p) is not a regular file — give the path of the model file itself"
        case .cannotMap(let p, let r): "cannot memory-map \(p): \(r)"
        }
    }
}
