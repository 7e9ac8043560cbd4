//! Free-space checks before the embedded index writes.
//!
//! qdrant-edge writes its segments and WAL through memory maps of sparse files. On a full disk
//! the kernel cannot allocate a page behind such a map and the process receives SIGBUS, with no
//! error the code could handle. So every write first checks that the file system has room for
//! it, and fails with an error that names the directory while nothing has been written.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::index::{IndexError, IndexLayout, IndexResult};

/// Room kept free beyond each write's own estimate: WAL pages, segment headers, the sync state
/// and the lock file.
const RESERVE_BYTES: u64 = 8 * 1024 * 1024;

/// Estimated bytes of one point beside its dense vector: the sparse vector, the payload and its
/// indexes.
const POINT_BYTES: u64 = 4 * 1024;

/// Returns the bytes that a user without special rights can still write on the file system of
/// `path`.
pub(super) fn available_bytes(path: &Path) -> std::io::Result<u64> {
    let c_path = CString::new(path.as_os_str().as_bytes())
        .map_err(|err| std::io::Error::new(std::io::ErrorKind::InvalidInput, err))?;
    let mut stats = std::mem::MaybeUninit::<libc::statvfs>::zeroed();
    // SAFETY: `c_path` is a valid NUL-terminated string and `stats` is a writable statvfs.
    let result = unsafe { libc::statvfs(c_path.as_ptr(), stats.as_mut_ptr()) };
    if result != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: statvfs returned 0, so it filled `stats`.
    let stats = unsafe { stats.assume_init() };
    // The field types are u64 on 64-bit Linux but narrower on some other platforms.
    #[allow(clippy::unnecessary_cast)]
    let (blocks, block_size) = (stats.f_bavail as u64, stats.f_frsize as u64);
    Ok(blocks.saturating_mul(block_size))
}

/// Estimates the disk bytes that writing `points` points of `layout` takes. Each point is
/// counted twice, once in its segment and once in the WAL, which keeps every write.
///
/// NOTE: an estimate from the sizes of the vectors and of a typical payload, not a measurement
/// of qdrant-edge's files, so a write just under it may still fit.
pub(super) fn estimated_bytes(points: u64, layout: &IndexLayout) -> u64 {
    let dense = layout.dense_dimension.unwrap_or(0) as u64 * 4;
    let per_point = 2 * (dense + POINT_BYTES);
    RESERVE_BYTES.saturating_add(points.saturating_mul(per_point))
}

/// Checks that the file system of `dir` has room for `points` points of `layout`.
pub(super) fn check_room(dir: &Path, points: u64, layout: &IndexLayout) -> IndexResult<()> {
    let needed = estimated_bytes(points, layout);
    let available = available_bytes(dir).map_err(|source| IndexError::Io {
        context: format!("failed to read the free space of {}", dir.display()),
        source,
    })?;
    if available < needed {
        return Err(IndexError::NoSpace {
            path: dir.display().to_string(),
            available,
            needed,
            points,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(dimension: Option<usize>) -> IndexLayout {
        IndexLayout {
            dense_dimension: dimension,
            model: None,
        }
    }

    #[test]
    fn estimate_counts_vectors_twice() {
        // 8 MiB reserve + 1,000 × 2 × (256 × 4 + 4,096) bytes.
        assert_eq!(
            estimated_bytes(1_000, &layout(Some(256))),
            8_388_608 + 10_240_000
        );
    }

    #[test]
    fn estimate_without_dense_vectors() {
        assert_eq!(estimated_bytes(10, &layout(None)), 8_388_608 + 81_920);
    }

    #[test]
    fn estimate_saturates_instead_of_overflowing() {
        assert_eq!(estimated_bytes(u64::MAX, &layout(Some(4096))), u64::MAX);
    }

    #[test]
    fn available_bytes_of_missing_path_fails() {
        let missing = Path::new("/nonexistent/crm-vec/space-test");
        assert!(available_bytes(missing).is_err());
    }

    #[test]
    fn check_room_rejects_more_than_the_disk() {
        let dir = std::env::temp_dir();
        let available = available_bytes(&dir).unwrap();
        let too_many = available / (2 * POINT_BYTES) + 1;
        let err = check_room(&dir, too_many, &layout(None)).unwrap_err();
        assert!(matches!(err, IndexError::NoSpace { .. }), "{err}");
    }

    #[test]
    fn check_room_accepts_a_small_write() {
        assert!(check_room(&std::env::temp_dir(), 1, &layout(Some(256))).is_ok());
    }
}
