/**
 * Accept the export's share: the invitation this account received for the share named after the
 * export id, from the source account the request names (and no other: an account that merely
 * shares a same-named snapshot is never trusted). While the export is still running in the source
 * cluster there may be no invitation yet: it is waited for, at most ready-timeout. An expired or
 * rejected invitation, or none, fails with what to do; nothing has been made yet.
 */
import { exportShareName } from "../../../core/cross-account-request.ts";
import type { ShareInvitation } from "../../../core/snapshot-sharing.ts";
import { journalNameOf, readJournal, type MigrationContext } from "../../context.ts";
import { restoreOf, sharingOf } from "../../cross-account.ts";
import { PermanentMigrationError } from "../../faults.ts";
import { done, type Step, type StepOutcome } from "../../saga/step.ts";
import { clusterWaitMs, waitWithin } from "../../waits.ts";

export const acceptShare: Step<MigrationContext> = {
  name: "accept-share",
  async run(context): Promise<StepOutcome> {
    const { sourceAccount, exportId } = restoreOf(context);
    const sharing = sharingOf(context);
    const name = exportShareName(exportId);
    const invitations = (await sharing.receivedInvitations()).filter((invitation) => invitation.shareName === name && invitation.senderAccountId === sourceAccount);
    const accepted = invitations.find((invitation) => invitation.status === "Accepted");
    const pending = invitations.find((invitation) => invitation.status === "Pending");
    const chosen = accepted ?? pending;
    if (chosen !== undefined) {
      if (chosen.status === "Pending") await sharing.acceptInvitation(chosen.invitationId);
      await record(context, chosen, sourceAccount);
      return done;
    }
    const ended = invitations.find((invitation) => invitation.status === "Expired" || invitation.status === "Rejected");
    if (ended !== undefined) {
      const why = ended.status === "Expired" ? "expired (Resource Sharing invitations last 7 days)" : "was rejected in this account";
      throw new PermanentMigrationError(`the invitation to share ${name} from account ${sourceAccount} ${why}; nothing was made: in the source cluster, set a new zoneferry.io/retry value on the export (a new export id), then restore from the id its ConfigMap gives`);
    }
    const journal = await readJournal(context);
    return waitWithin(context, {
      type: "InvitationAwaited",
      limitMs: clusterWaitMs(journal),
      awaited: `an invitation to share ${name} from account ${sourceAccount}`,
      overdue: `no invitation to share ${name} from account ${sourceAccount} reached this account; nothing was made: check the account id and export id in zoneferry.io/restore-from, and that the export succeeded in the source cluster with this account in zoneferry.io/export-to-accounts`,
      pollMs: 2_000,
    });
  },
};

async function record(context: MigrationContext, invitation: ShareInvitation, owner: string): Promise<void> {
  await context.journal.updateStatus(context.job.namespace, journalNameOf(context), (status) => {
    status.share = { shareId: invitation.shareId, name: invitation.shareName, ownerAccountId: owner };
  });
}
