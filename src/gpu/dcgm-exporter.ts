/**
 * NVIDIA's dcgm-exporter, read for MIG devices' utilisation (docs/admin/notifications-and-idleness.md "GPU idleness"): nvidia-smi
 * reports none for them. Its page is parsed by src/gpu/parse-dcgm-metrics.ts.
 */
export interface DcgmExporter {
  /** The text of its metrics page (dcgmExporterUrl). Rejects when it cannot be read in time. */
  metrics(): Promise<string>;
}
