using Chat.Server.Connections;

namespace Chat.Server.Routing;

/// <summary>
/// Live delivery, the fast path after a message is stored: recipients on this replica get the frame directly,
/// the others through the bus (one publish per message, whatever the group size).
/// </summary>
public sealed class Router(SessionStore sessions, IClusterBus bus)
{
    /// <summary>A message stored by this replica.</summary>
    public void Route(Delivery delivery)
    {
        if (delivery.IsGroup)
        {
            DeliverToGroup(delivery);
            bus.Publish(delivery);
        }
        else if (sessions.Find(delivery.TargetId) is { } recipient)
        {
            recipient.Deliver(delivery);
        }
        else
        {
            bus.Publish(delivery);
        }
    }

    /// <summary>A message another replica stored and published.</summary>
    public void DeliverFromBus(Delivery delivery)
    {
        if (delivery.IsGroup)
        {
            DeliverToGroup(delivery);
        }
        else
        {
            sessions.Find(delivery.TargetId)?.Deliver(delivery);
        }
    }

    private void DeliverToGroup(Delivery delivery)
    {
        foreach (var member in sessions.GroupMembers(delivery.TargetId))
        {
            if (member.User?.Id != delivery.SenderId)
            {
                member.Deliver(delivery);
            }
        }
    }
}
