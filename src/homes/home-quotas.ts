import type {MountEntry} from './mountinfo.js';

export type QuotaMechanism = 'xfs' | 'ext4' | 'btrfs' | 'loop';
export type QuotaMode = QuotaMechanism | 'auto' | 'off';

/** A home's disk use and limit, and what enforces it. */
export interface HomeDisk {
  used: number;
  limit: number | null;
  mechanism: QuotaMechanism;
}

/**
 * One way of limiting a home's size (docs/admin/disk-quotas.md): XFS and ext4 project quotas (the
 * project id is the owner's uid), btrfs (a subvolume per home with a qgroup limit) and loop (an
 * ext4 image file per home, mounted on it).
 */
export interface HomeQuotas {
  readonly mechanism: QuotaMechanism;
  /**
   * Makes `home` hold at most `limit` bytes: made so when new, an existing plain home moved in with
   * its files and owner, a limit changed in place (a running session keeps going). Returns what
   * the person should know when the new limit waits (a loop image the kernel would not grow mounted).
   */
  apply(home: string, uid: number, limit: number): Promise<string | void>;
  /** Takes the home's limit away (the quota was removed); its files stay where they are. */
  lift(home: string): Promise<void>;
  /** What must be in place before the home is used (a loop image mounted again after a reboot). */
  ready(home: string): Promise<void>;
  /** Use and limit; undefined when the home has no quota of this kind. */
  usage(home: string): Promise<HomeDisk | undefined>;
  /** Before a home is deleted (`setup --remove --purge`): what holds it is let go (a loop image unmounted). */
  detach(home: string): Promise<void>;
}

/** The mechanism a quota would use under workspaceRoot, or why none can, and the fix. */
export interface QuotaChoice {
  mechanism: QuotaMechanism | null;
  /** In words, for doctor and errors: the filesystem and what it lacks or has. */
  why: string;
  fix?: string;
}

const PROJECT_QUOTA = ['prjquota', 'pquota', 'pqnoenforce', 'prjjquota'];

/**
 * Which mechanism enforces quotas on the filesystem under workspaceRoot (`auto`), or whether the
 * named one can. xfs and ext4 project quotas need the `prjquota` mount option (ext4 also the
 * `project` and `quota` features); btrfs needs nothing but itself; loop works on any filesystem
 * that holds sparse files, at the price of a mount per home.
 */
export function chooseMechanism(mode: QuotaMode, mount: MountEntry | undefined): QuotaChoice {
  const fs = mount ? `${mount.fsType} at ${mount.mountPoint}` : 'an unknown filesystem';
  const projectQuota = !!mount && mount.options.some((option) => PROJECT_QUOTA.includes(option));
  if (mode === 'off')
    return {mechanism: null, why: 'quotaMode is off', fix: 'set quotaMode auto (or btrfs, loop)'};
  if (mode === 'loop') return {mechanism: 'loop', why: `an ext4 image file per home, on ${fs}`};
  const xfsFix = 'mount it with -o prjquota (in /etc/fstab), or set quotaMode loop';
  const ext4Fix = 'tune2fs -O project,quota on it and mount it with -o prjquota, or set quotaMode loop';
  if (mode === 'btrfs')
    return mount?.fsType === 'btrfs'
      ? {mechanism: 'btrfs', why: `a subvolume per home with a qgroup limit, on ${fs}`}
      : {
          mechanism: null,
          why: `quotaMode btrfs, but workspaceRoot is on ${fs}`,
          fix: 'set quotaMode auto or loop',
        };
  if (mode === 'xfs' || (mode === 'auto' && mount?.fsType === 'xfs'))
    return mount?.fsType === 'xfs' && projectQuota
      ? {mechanism: 'xfs', why: `XFS project quotas, on ${fs} (prjquota)`}
      : {mechanism: null, why: `${fs} is not mounted with project quotas (no prjquota)`, fix: xfsFix};
  if (mode === 'ext4' || (mode === 'auto' && mount?.fsType === 'ext4'))
    return mount?.fsType === 'ext4' && projectQuota
      ? {mechanism: 'ext4', why: `ext4 project quotas, on ${fs} (prjquota)`}
      : {mechanism: null, why: `${fs} is not mounted with project quotas (no prjquota)`, fix: ext4Fix};
  if (mount?.fsType === 'btrfs')
    return {mechanism: 'btrfs', why: `a subvolume per home with a qgroup limit, on ${fs}`};
  return {
    mechanism: null,
    why: `${fs} cannot enforce a quota (no project or subvolume quotas)`,
    fix: 'put workspaceRoot on btrfs, or XFS/ext4 mounted with prjquota, or set quotaMode loop',
  };
}
