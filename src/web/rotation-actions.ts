// Starting a rotation from the dashboard (a key's page, a finding's triage): the rotation is planned in the
// journal before the response (so the page shows it and a crash leaves it resumable by the controller or
// `keyledger rotate --resume`), then driven in the background by this process with the usual dual-write window.
import type { RotationTrigger } from '../lifecycle/rotation/rotation-states.js';
import type { Principal } from '../server/access.js';
import { actorOf, type WebContext } from './web-context.js';

export async function startRotation(
  context: WebContext,
  principal: Principal,
  keyId: string,
  trigger: RotationTrigger,
): Promise<{ rotationId: string; created: boolean }> {
  const services = context.server.app.rotation({ actor: actorOf(principal) });
  const { row, created } = await services.rotator.plan(keyId, trigger);
  const drive = services.rotator
    .drive(row.rotation_id, { waitForRetries: true, signal: context.shutdown })
    .then(() => context.snapshot.invalidate())
    .catch((error: unknown) => {
      context.server.logger.error(
        { rotationId: row.rotation_id, keyId, err: { message: (error as Error).message } },
        'dashboard rotation stopped; the journal keeps it for the controller',
      );
    })
    .finally(() => context.running.delete(drive));
  context.running.add(drive);
  return { rotationId: row.rotation_id, created };
}
