"""What every number on the Painel means: shown on hover (title) and in the page's "Definições" section.

One text per metric, kept next to nothing else, so the page, its tooltips and the README say the same.
"""

from django.utils import formats
from django.utils.translation import gettext_lazy as _

from dashboard.selectors import LIVE_LIMIT

DEFINITIONS = {
    "active": (
        _("Assinaturas ativas"),
        _(
            "Assinaturas com a situação Ativa agora: último pagamento feito, próxima cobrança prevista. Não "
            "inclui as em teste nem as com pagamento pendente."
        ),
    ),
    "trialing": (
        _("Em teste"),
        _("Assinaturas com a situação Em teste agora (período de teste gratuito do plano)."),
    ),
    "paused": (
        _("Pausadas"),
        _(
            "Assinaturas com a situação Pausada agora: não geram faturas até serem retomadas e não entram "
            "no MRR."
        ),
    ),
    "past_due": (
        _("Pagamento pendente"),
        _(
            "Assinaturas com a situação Pagamento pendente agora: uma cobrança falhou e as novas tentativas "
            "estão em andamento. Valor em risco: soma do que falta pagar (total menos o já pago) das faturas "
            "em aberto dessas assinaturas, mais as parcelas de parcelamentos marcadas como incobráveis "
            "(ainda devidas), por moeda. O valor não tem link: a lista de faturas não filtra pela situação "
            "da assinatura."
        ),
    ),
    "mrr": (
        _("MRR (receita recorrente mensal)"),
        _(
            "Soma, por moeda, do valor por período de cada assinatura Ativa (já com quantidade e desconto "
            "manual), convertido para um mês: intervalo mensal dividido pelo número de meses (trimestral ÷ "
            "3, semestral ÷ 6), anual ÷ 12, semanal × 52 ÷ 12, diário × 365 ÷ 12. A soma é exata e "
            "arredondada uma única vez ao centavo. Cupons e impostos não entram; assinaturas em teste ou com "
            "pagamento pendente também não. O link abre as assinaturas Ativas que o compõem."
        ),
    ),
    "arr": (
        _("ARR (receita recorrente anual)"),
        _("MRR × 12, calculado sobre o MRR exato e arredondado uma única vez ao centavo."),
    ),
    "revenue": (
        _("Receita recebida"),
        _(
            "Soma bruta, por moeda, dos pagamentos confirmados (situação Paga ou Reembolsada) criados no "
            "período, pela data do pagamento na lista Cobranças › Pagamentos. Reembolsos não são "
            "descontados: têm o seu próprio cartão. Boleto e pix contam no dia em que foram emitidos, depois "
            "de pagos."
        ),
    ),
    "new": (
        _("Novas assinaturas"),
        _(
            "Assinaturas com data de contratação no período, em qualquer situação — a lista de assinaturas "
            "filtrada por Contratada de/até."
        ),
    ),
    "deactivated": (
        _("Cancelamentos"),
        _(
            "Assinaturas desativadas no período, pelo dia em que deixaram de valer: canceladas (por cliente, "
            "vendedor ou administrador), expiradas (parcelas concluídas ou tentativas esgotadas) e "
            "reembolsadas — a lista de assinaturas filtrada por Desativada de/até."
        ),
    ),
    "churn": (
        _("Taxa de cancelamento (churn)"),
        _(
            "Cancelamentos no período ÷ assinaturas em risco no período, em porcentagem: as em vigor no "
            "início (ao fim do dia anterior), mais as contratadas no período, mais as que não estavam em "
            "nenhum desses grupos e foram canceladas nele (um teste ou um contrato agendado de antes). Todo "
            "cancelamento está entre as em risco, então a taxa nunca passa de 100%. Mostra — quando nenhuma "
            "estava em risco. “Em vigor” segue a mesma reconstrução do gráfico de MRR; a variação é em "
            "pontos percentuais (p.p.). O link abre os cancelamentos (o numerador)."
        ),
    ),
    "refunds": (
        _("Reembolsos"),
        _(
            "Soma, por moeda, dos reembolsos concluídos no período, pela data do reembolso. Não há uma lista "
            "de reembolsos para abrir: cada um aparece na fatura do seu pagamento."
        ),
    ),
    "mrr_history": (
        _("MRR nos últimos 12 meses"),
        _(
            "MRR ao fim de cada mês (no mês atual, hoje), reconstruído das datas das assinaturas: cada uma "
            "conta da data de contratação (ou do fim do teste, se houver) até o dia em que foi desativada, "
            "com o valor e o plano que tem hoje. É uma aproximação: mudanças de plano, quantidade ou "
            "desconto e atrasos de pagamento do passado não ficam registrados, e as assinaturas hoje "
            "agendadas, pendentes ou em teste não entram. Por isso o ponto de hoje pode diferir do cartão "
            "MRR, que considera só as assinaturas Ativas. Por ser uma reconstrução, os pontos não têm link."
        ),
    ),
    "monthly_flow": (
        _("Novas e cancelamentos por mês"),
        _(
            "Em cada um dos últimos 12 meses: assinaturas contratadas (data de contratação) e desativadas "
            "(data de desativação), contadas como nos cartões."
        ),
    ),
    "by_origin": (
        _("Cancelamentos por origem"),
        _(
            "Desativações do período por quem pediu: cliente, vendedor ou administrador da plataforma. "
            "Expirações não têm origem. A lista de assinaturas não filtra por origem do cancelamento, por "
            "isso estes números não têm link."
        ),
    ),
    "reasons": (
        _("Principais motivos"),
        _(
            "Os cinco motivos mais informados nas desativações do período: a opção que o cliente escolheu "
            "no portal (sem o texto que ele escreveu), o motivo que o próprio sistema registrou ou o texto "
            "livre de quem cancelou (espaços normalizados); os demais somam em Outros motivos. A lista de "
            "assinaturas não filtra por motivo."
        ),
    ),
    "by_method": (
        _("Receita por forma de pagamento"),
        _(
            "A receita recebida no período por forma de pagamento, com links para os pagamentos pagos e "
            "reembolsados de cada forma."
        ),
    ),
    "freshness": (
        _("Atualização"),
        _(
            "Os números são calculados a cada visita. Em lojas com %(limit)s assinaturas ou mais, vêm de um "
            "retrato recalculado a cada 15 minutos, e a página diz a hora em que foi tirado."
        ),
    ),
}


def definitions() -> dict[str, tuple[str, str]]:
    """key → (label, text) in the active language."""
    limit = formats.number_format(LIVE_LIMIT, force_grouping=True)
    return {
        key: (str(label), str(text) % {"limit": limit} if "%(limit)s" in str(text) else str(text))
        for key, (label, text) in DEFINITIONS.items()
    }
