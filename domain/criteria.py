"""The certification criteria (认证依据, R-9.2, R-9.3): the standard and the implementation rules
a certificate names. The CB's current criteria are CURRENT; a certificate issued under earlier
criteria (its `standard` and `rules` differ) is reissued under the current ones when the client
asks for a change of kind `criteria` (R-9.3: 认证依据发生变化时，客户应提出变更申请，经评定
通过后换发证书). A client that cannot meet new criteria is refused at the evaluation; the
certificate is then cancelled under R-9.5.3a (cancellation process).

Adopting new criteria = changing CURRENT (a reviewed code change, like the programme rules);
docs/decisions.md, "R-9.3 change of the certification criteria"."""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Criteria:
    standard: str  # the standard, with its year (the version), e.g. GB/T 27922-2011
    rules: str  # the CB's implementation rules

    def as_dict(self) -> dict[str, str]:
        return {"standard": self.standard, "rules": self.rules}


CURRENT = Criteria(
    standard="GB/T 27922-2011 商品售后服务评价体系",
    rules="首认检测认证/CTC 商品售后服务认证实施规则",
)


def criteria_of(certificate: Any) -> Criteria:
    return Criteria(standard=certificate.standard, rules=certificate.rules)


def names_current_criteria(certificate: Any) -> bool:
    return criteria_of(certificate) == CURRENT
