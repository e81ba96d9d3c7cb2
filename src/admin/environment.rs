//! Facts about the running process for `envi`, `mntr` and `dirs`: the
//! environment keys ZooKeeper prints, file-descriptor counts and directory
//! sizes. On Linux they come from `/proc`; elsewhere unknown values print as
//! `<NA>` (Java's own placeholder) or -1.

use std::fs;
use std::path::Path;

/// What Java prints for a property it does not have.
const NOT_AVAILABLE: &str = "<NA>";

/// The `envi` lines, in ZooKeeper's order and with every key it prints, so
/// tools that parse `zookeeper.version`, `host.name`, `os.*` and `user.*`
/// find them. Paddock is not a JVM: `java.*` keys that have no counterpart
/// print `<NA>`, `java.io.tmpdir` is the temp directory and
/// `java.library.path` is `LD_LIBRARY_PATH`. The `os.memory.*` keys describe
/// the process instead of a heap: `free` is the memory the OS reports
/// available, `max` the physical memory and `total` this process's resident
/// size, each in whole MiB with the `MB` suffix.
pub fn environment(version: &str) -> Vec<(String, String)> {
    let entries = [
        ("zookeeper.version", version.to_owned()),
        ("host.name", host_name()),
        ("java.version", NOT_AVAILABLE.to_owned()),
        ("java.vendor", NOT_AVAILABLE.to_owned()),
        ("java.home", NOT_AVAILABLE.to_owned()),
        ("java.class.path", NOT_AVAILABLE.to_owned()),
        ("java.library.path", env_or_na("LD_LIBRARY_PATH")),
        ("java.io.tmpdir", std::env::temp_dir().display().to_string()),
        ("java.compiler", NOT_AVAILABLE.to_owned()),
        ("os.name", os_name().to_owned()),
        ("os.arch", os_arch().to_owned()),
        ("os.version", read_trimmed("/proc/sys/kernel/osrelease")),
        ("user.name", env_or_na("USER")),
        ("user.home", env_or_na("HOME")),
        ("user.dir", current_dir()),
        ("os.memory.free", megabytes(meminfo_kib("MemAvailable:"))),
        ("os.memory.max", megabytes(meminfo_kib("MemTotal:"))),
        ("os.memory.total", megabytes(resident_kib())),
    ];
    entries
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect()
}

/// Open file descriptors of this process (entries of `/proc/self/fd`), -1
/// when that cannot be read.
pub fn open_file_descriptor_count() -> i64 {
    fs::read_dir("/proc/self/fd")
        .map(|entries| entries.count() as i64)
        .unwrap_or(-1)
}

/// The soft limit on open files (`Max open files` in `/proc/self/limits`),
/// -1 when unknown or unlimited.
pub fn max_file_descriptor_count() -> i64 {
    let limits = fs::read_to_string("/proc/self/limits").unwrap_or_default();
    limits
        .lines()
        .find_map(|line| line.strip_prefix("Max open files"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|soft| soft.parse().ok())
        .unwrap_or(-1)
}

/// Total length in bytes of the regular files under `dir`, recursively
/// (ZooKeeper's `getDirSize`); 0 for a missing directory, and unreadable
/// entries count as 0.
pub fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(kind) if kind.is_dir() => dir_size(&entry.path()),
            Ok(_) => entry.metadata().map(|meta| meta.len()).unwrap_or(0),
            Err(_) => 0,
        })
        .sum()
}

/// The host name, as the kernel knows it.
fn host_name() -> String {
    read_trimmed("/proc/sys/kernel/hostname")
}

/// Java's `os.name` for the target OS.
fn os_name() -> &'static str {
    match std::env::consts::OS {
        "linux" => "Linux",
        "macos" => "Mac OS X",
        "windows" => "Windows",
        "freebsd" => "FreeBSD",
        other => other,
    }
}

/// Java's `os.arch` for the target architecture (`amd64` for x86_64).
fn os_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "x86" => "x86",
        other => other,
    }
}

/// The working directory, `<NA>` when it cannot be read.
fn current_dir() -> String {
    std::env::current_dir()
        .map(|dir| dir.display().to_string())
        .unwrap_or_else(|_| NOT_AVAILABLE.to_owned())
}

/// An environment variable, `<NA>` when unset.
fn env_or_na(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| NOT_AVAILABLE.to_owned())
}

/// A one-line file's content without the newline, `<NA>` when unreadable.
fn read_trimmed(path: &str) -> String {
    fs::read_to_string(path)
        .map(|text| text.trim().to_owned())
        .unwrap_or_else(|_| NOT_AVAILABLE.to_owned())
}

/// A `/proc/meminfo` field in KiB.
fn meminfo_kib(field: &str) -> Option<u64> {
    kib_field(&fs::read_to_string("/proc/meminfo").ok()?, field)
}

/// This process's resident set size in KiB.
fn resident_kib() -> Option<u64> {
    kib_field(&fs::read_to_string("/proc/self/status").ok()?, "VmRSS:")
}

/// The number after `field` in a `/proc` file of `Name:   123 kB` lines.
fn kib_field(text: &str, field: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
}

/// `<n>MB` from KiB, `<NA>` when unknown.
fn megabytes(kib: Option<u64>) -> String {
    kib.map(|kib| format!("{}MB", kib / 1024))
        .unwrap_or_else(|| NOT_AVAILABLE.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_has_every_key_zookeeper_prints_in_order() {
        let keys: Vec<String> = environment("v").into_iter().map(|(key, _)| key).collect();
        assert_eq!(
            keys,
            [
                "zookeeper.version",
                "host.name",
                "java.version",
                "java.vendor",
                "java.home",
                "java.class.path",
                "java.library.path",
                "java.io.tmpdir",
                "java.compiler",
                "os.name",
                "os.arch",
                "os.version",
                "user.name",
                "user.home",
                "user.dir",
                "os.memory.free",
                "os.memory.max",
                "os.memory.total",
            ]
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn linux_values_come_from_proc() {
        let env = environment("v");
        let value = |key: &str| env.iter().find(|(k, _)| k == key).unwrap().1.clone();
        assert_eq!(value("os.name"), "Linux");
        assert!(value("os.memory.total").ends_with("MB"));
        assert_ne!(value("os.version"), NOT_AVAILABLE);
        assert!(open_file_descriptor_count() > 0);
        assert!(max_file_descriptor_count() >= open_file_descriptor_count());
    }

    #[test]
    fn kib_field_reads_proc_lines() {
        let text = "MemTotal:       6172672 kB\nMemAvailable:    412000 kB\n";
        assert_eq!(kib_field(text, "MemAvailable:"), Some(412_000));
        assert_eq!(kib_field(text, "Missing:"), None);
        assert_eq!(megabytes(Some(6_172_672)), "6028MB");
        assert_eq!(megabytes(None), "<NA>");
    }

    #[test]
    fn dir_size_sums_files_recursively() {
        let root =
            std::env::temp_dir().join(format!("paddock-admin-dirsize-{}", std::process::id()));
        fs::create_dir_all(root.join("version-2")).unwrap();
        fs::write(root.join("a"), [0u8; 10]).unwrap();
        fs::write(root.join("version-2").join("b"), [0u8; 447]).unwrap();
        assert_eq!(dir_size(&root), 457);
        assert_eq!(dir_size(&root.join("missing")), 0);
        fs::remove_dir_all(&root).unwrap();
    }
}
