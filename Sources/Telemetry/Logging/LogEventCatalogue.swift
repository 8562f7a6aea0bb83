/// Key events and their fixed journald `MESSAGE_ID`s. A log call marks an event with the metadata key
/// `event` (for example `logger.info("ready", metadata: ["event": "ready"])`); under journald the entry gets
/// the matching `MESSAGE_ID`, so `journalctl MESSAGE_ID=...` finds every occurrence. The list is documented
/// in docs/logging.md; a test keeps both in step.
public enum LogEventCatalogue {
    public static let messageIDs: [String: String] = [
        "startup": "6f1c2a0e4b6d4f0a9c3e5b7d1a2f4c60",
        "ready": "0b8e5d3c7a1f4e2b9d6c4a8e2f1b3d71",
        "shutdown": "c3a1e7f5b9d24c6e8a0f2b4d6e8a1c82",
        "reload": "8d2f4b6a0c1e43a59b7d9f1e3a5c7e93",
        "job_failed": "e5b7d9f1a3c54e7a9b1d3f5a7c9e1ba4",
        "request_failed": "2a4c6e8f0b1d43f5a7c9e1b3d5f7a9b5",
        "alert_state_change": "4e6a8c0e2f3b45d7b9d1f3a5c7e9a1c6",
        "watchdog_skipped": "a7c9e1b3d5f74a9b8d0f2a4c6e8b0dd7",
        "log_write_failed": "f1d3b5a7c9e14b3d9f5a7c9e1b3d5fe8",
        "error_new_fingerprint": "9b3d5f7a1c2e44b6a8d0f2b4c6e8a0f9",
        "crash_report": "5d7f9b1c3e5a46c8b0d2f4a6c8e0b2da",
        "tracing_diagnostic": "c1e3a5b7d9f04c2e8a6b4d2f0e8c6a4b",
    ]

    public static func messageID(for event: String) -> String? { messageIDs[event] }
}
