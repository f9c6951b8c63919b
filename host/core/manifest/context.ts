/** Where a manifest came from: only used to resolve relative paths and to name the file in errors. */
export interface ManifestContext {
  /** Absolute path of the manifest file, or null when the JSON did not come from a file. */
  readonly manifestPath: string | null;
  /** Folder that relative paths in the manifest are resolved against (should be absolute). */
  readonly baseDir: string;
  /**
   * Texts of the files the manifest names that the parser must read (a node manifest's trusted public-key files),
   * keyed by absolute path, read beforehand by the caller (host/runtime/load-manifest.ts). A named file missing here
   * is a ManifestInvalidError.
   */
  readonly files?: ReadonlyMap<string, string>;
}
