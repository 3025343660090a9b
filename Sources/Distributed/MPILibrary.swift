#if canImport(Glibc)
import Glibc
#endif

/// Open MPI's C library, loaded at run time (`dlopen`), so `mlw` builds and runs where MPI
/// is not installed and a plain `mlw run` never loads it.
///
/// Open MPI's handles are pointers: MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM and friends are the
/// addresses of global objects (mpi.h: `OMPI_PREDEFINED_GLOBAL(MPI_Comm, ompi_mpi_comm_world)`),
/// looked up here with `dlsym`. MPI_STATUS_IGNORE is a null pointer.
final class MPILibrary {
    typealias Handle = UnsafeMutableRawPointer
    typealias Request = UnsafeMutableRawPointer?

    /// The shared object of Open MPI 4.x and 5.x (Debian: libopenmpi3 pulled in by libopenmpi-dev);
    /// MLW_MPI_LIBRARY names another (an Open MPI built under /opt, say).
    static var soname: String { getenv("MLW_MPI_LIBRARY").map { String(cString: $0) } ?? "libmpi.so.40" }
    static let packages = "openmpi-bin and libopenmpi-dev"

    let initThread: @convention(c) (UnsafeMutablePointer<Int32>?, UnsafeMutableRawPointer?, Int32, UnsafeMutablePointer<Int32>) -> Int32
    let initialized: @convention(c) (UnsafeMutablePointer<Int32>) -> Int32
    let finalized: @convention(c) (UnsafeMutablePointer<Int32>) -> Int32
    let finalize: @convention(c) () -> Int32
    let commRank: @convention(c) (Handle, UnsafeMutablePointer<Int32>) -> Int32
    let commSize: @convention(c) (Handle, UnsafeMutablePointer<Int32>) -> Int32
    let commSetErrhandler: @convention(c) (Handle, Handle) -> Int32
    let iallreduce: @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32, Handle, Handle, Handle, UnsafeMutablePointer<Request>) -> Int32
    let iallgather: @convention(c) (UnsafeRawPointer?, Int32, Handle, UnsafeMutableRawPointer?, Int32, Handle, Handle, UnsafeMutablePointer<Request>) -> Int32
    let isend: @convention(c) (UnsafeRawPointer?, Int32, Handle, Int32, Int32, Handle, UnsafeMutablePointer<Request>) -> Int32
    let irecv: @convention(c) (UnsafeMutableRawPointer?, Int32, Handle, Int32, Int32, Handle, UnsafeMutablePointer<Request>) -> Int32
    let test: @convention(c) (UnsafeMutablePointer<Request>, UnsafeMutablePointer<Int32>, UnsafeMutableRawPointer?) -> Int32
    let abort: @convention(c) (Handle, Int32) -> Int32
    let errorString: @convention(c) (Int32, UnsafeMutablePointer<CChar>, UnsafeMutablePointer<Int32>) -> Int32

    let commWorld: Handle, float: Handle, double: Handle, int: Handle, sum: Handle, errorsReturn: Handle

    /// Loads the library; the error names the Debian packages to install.
    init() throws {
        // RTLD_GLOBAL: Open MPI's own plugins (mca_*.so) resolve symbols of libmpi/libopen-pal.
        guard let h = dlopen(Self.soname, RTLD_NOW | RTLD_GLOBAL) else {
            let why = dlerror().map { String(cString: $0) } ?? "not found"
            throw DistributedError("distributed training needs Open MPI's library \(Self.soname), which could not be loaded (\(why)); "
                                   + "install the Debian packages \(Self.packages)")
        }
        func sym(_ name: String) throws -> UnsafeMutableRawPointer {
            guard let p = dlsym(h, name) else { throw DistributedError("\(Self.soname) has no symbol \(name) (not Open MPI 4 or 5?)") }
            return p
        }
        func fn<T>(_ name: String, _: T.Type) throws -> T { unsafeBitCast(try sym(name), to: T.self) }
        initThread = try fn("MPI_Init_thread", type(of: initThread))
        initialized = try fn("MPI_Initialized", type(of: initialized))
        finalized = try fn("MPI_Finalized", type(of: finalized))
        finalize = try fn("MPI_Finalize", type(of: finalize))
        commRank = try fn("MPI_Comm_rank", type(of: commRank))
        commSize = try fn("MPI_Comm_size", type(of: commSize))
        commSetErrhandler = try fn("MPI_Comm_set_errhandler", type(of: commSetErrhandler))
        iallreduce = try fn("MPI_Iallreduce", type(of: iallreduce))
        iallgather = try fn("MPI_Iallgather", type(of: iallgather))
        isend = try fn("MPI_Isend", type(of: isend))
        irecv = try fn("MPI_Irecv", type(of: irecv))
        test = try fn("MPI_Test", type(of: test))
        abort = try fn("MPI_Abort", type(of: abort))
        errorString = try fn("MPI_Error_string", type(of: errorString))
        commWorld = try sym("ompi_mpi_comm_world")
        float = try sym("ompi_mpi_float")
        double = try sym("ompi_mpi_double")
        int = try sym("ompi_mpi_int")
        sum = try sym("ompi_mpi_op_sum")
        errorsReturn = try sym("ompi_mpi_errors_return")
    }

    /// MPI's text for an error code.
    func message(_ code: Int32) -> String {
        var buf = [CChar](repeating: 0, count: 512), len: Int32 = 0
        _ = errorString(code, &buf, &len)
        return String(cString: buf)
    }
}

public struct DistributedError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
