import { z } from 'zod';

/** An account; API keys map to it only through their SHA-256 hash. */
export const Account = z.object({
  id: z.string().min(1),
  tier: z.string().min(1),
  lane: z.string().min(1),
  createdAt: z.number().int(),
  source: z.enum(['file', 'admin', 'signup', 'introspection']),
  disabled: z.boolean().default(false),
  /** When the credential stops being valid (an introspected token's `exp`, ms); none = no end. */
  credentialExpiresAt: z.number().optional(),
});
export type Account = z.infer<typeof Account>;

/** One entry of SPILLWAY_ACCOUNTS_FILE. */
export const ProvisionedKey = z.object({
  key: z.string().min(8),
  tier: z.string().min(1),
  lane: z.string().min(1),
  account: z.string().min(1).optional(),
});
export type ProvisionedKey = z.infer<typeof ProvisionedKey>;
export const AccountsFile = z.array(ProvisionedKey);
