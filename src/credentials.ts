import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

/**
 * Whether AWS credentials are configured where the SDK looks without a network call:
 * keys, a profile, web identity or a container role in the environment, or a shared
 * config file. It only looks for their presence (the SDK resolves them).
 */
export function awsCredentialsConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE || env.AWS_WEB_IDENTITY_TOKEN_FILE) return true
  if (env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI || env.AWS_CONTAINER_CREDENTIALS_FULL_URI) return true
  const dir = join(homedir(), '.aws')
  return existsSync(env.AWS_SHARED_CREDENTIALS_FILE ?? join(dir, 'credentials')) || existsSync(env.AWS_CONFIG_FILE ?? join(dir, 'config'))
}

/** How long an instance role may take to answer, all steps together, before it is taken to be absent (it answers in milliseconds on EC2). */
export const INSTANCE_ROLE_WAIT_MS = 1_000

/**
 * Whether an instance role answers on the instance metadata service (EC2), asked once
 * with a short timeout and no retries. The SDK's own chain asks it too, but with retries
 * on every request attempt, which off AWS turns a missing credential into 10 to 45 s of
 * silence. `AWS_EC2_METADATA_DISABLED=true` skips it; `AWS_EC2_METADATA_SERVICE_ENDPOINT`
 * moves it, as for the SDK.
 */
export async function instanceRoleAvailable(env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  if (env.AWS_EC2_METADATA_DISABLED?.toLowerCase() === 'true') return false
  const { fromInstanceMetadata } = await import('@smithy/credential-provider-imds')
  let timer: NodeJS.Timeout | undefined
  // The provider tries a token, then the role, then its credentials, each with the
  // timeout; the overall cap bounds them together whatever the network does.
  const deadline = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), INSTANCE_ROLE_WAIT_MS).unref() })
  const probe = fromInstanceMetadata({ timeout: INSTANCE_ROLE_WAIT_MS, maxRetries: 0 })().then(() => true, () => false)
  try {
    return await Promise.race([probe, deadline])
  } finally {
    clearTimeout(timer)
  }
}

/** Configured credentials, or else an instance role: what the S3 sync can run with. */
export async function awsCredentialsFound(env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  return awsCredentialsConfigured(env) || instanceRoleAvailable(env)
}
